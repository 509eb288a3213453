"""History through HTTP: uptime windows, incidents filtered and paged, and the monthly SLA
report as JSON and CSV, all exact for a scripted history."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from localedge.stack import Stack
from tests.workers.monitoring.support import ADMIN, READ, START, Target


async def outage_history(http: httpx.AsyncClient, stack: Stack, target: Target) -> None:
    """`api`: created at 0 s, down 120-300 s and 420-480 s (one confirmation), now 600 s."""
    await http.post("/monitoring/checks", headers=ADMIN, json={
        "type": "http", "id": "api", "name": "Pitchey API", "url": target.url,
        "confirmations": 1, "slo_target": 99.5,
    })  # fmt: skip
    for until, status in ((119, 200), (299, 500), (419, 200), (479, 500), (600, 200)):
        target.status = status
        await stack.advance(until - (stack.clock.now() - START))


@pytest.mark.anyio
async def test_incidents_filter_by_state_and_page_newest_first(
    http: httpx.AsyncClient, stack: Stack, target: Target
) -> None:
    await outage_history(http, stack, target)
    page = (await http.get("/monitoring/incidents?check=api&limit=1", headers=READ)).json()
    [newest] = page["incidents"]
    assert (newest["started_at"], newest["ended_at"], newest["duration_s"]) == (
        "2026-03-02T00:07:00.000Z", "2026-03-02T00:08:00.000Z", 60.0,
    )  # fmt: skip
    rest = await http.get(f"/monitoring/incidents?check=api&cursor={page['cursor']}", headers=READ)
    [older] = rest.json()["incidents"]
    assert older["duration_s"] == 180.0 and rest.json()["cursor"] is None
    assert (await http.get("/monitoring/incidents?state=open", headers=READ)).json()[
        "incidents"
    ] == []
    bad = await http.get("/monitoring/incidents?since=yesterday", headers=READ)
    assert bad.status_code == 422


@pytest.mark.anyio
async def test_uptime_reports_the_four_standard_windows_exactly(
    http: httpx.AsyncClient, stack: Stack, target: Target
) -> None:
    await outage_history(http, stack, target)
    report = (await http.get("/monitoring/uptime?check=api", headers=READ)).json()
    [api] = report["checks"]
    assert list(api["windows"]) == ["24h", "7d", "30d", "90d"]
    for figures in api["windows"].values():
        assert (figures["monitored_s"], figures["downtime_s"], figures["incidents"]) == (
            600.0, 240.0, 2,
        )  # fmt: skip
        assert figures["uptime_pct"] == 60.0
    short = (await http.get("/monitoring/uptime?check=api&window=5m", headers=READ)).json()
    assert short["checks"][0]["windows"]["5m"]["downtime_s"] == 60.0  # 300-600 s: 420-480 s
    assert (await http.get("/monitoring/uptime?window=100d", headers=READ)).status_code == 422
    assert (await http.get("/monitoring/uptime?check=nope", headers=READ)).status_code == 404


@pytest.mark.anyio
async def test_the_monthly_sla_report_as_json_and_csv(
    http: httpx.AsyncClient, stack: Stack, target: Target
) -> None:
    await outage_history(http, stack, target)
    report = (await http.get("/monitoring/reports/sla?month=2026-03", headers=READ)).json()
    assert (report["month"], report["start"], report["end"]) == (
        "2026-03", "2026-03-01T00:00:00.000Z", "2026-04-01T00:00:00.000Z",
    )  # fmt: skip
    [api] = [row for row in report["checks"] if row["check_id"] == "api"]
    assert api == {
        "check_id": "api", "name": "Pitchey API", "slo_target_pct": 99.5, "uptime_pct": 60.0,
        "met": False, "monitored_s": 600.0, "downtime_s": 240.0, "maintenance_s": 0.0,
        "incidents": 2, "longest_incident_s": 180.0, "allowed_downtime_s": 3.0,
    }  # fmt: skip
    reply = await http.get("/monitoring/reports/sla?month=2026-03&format=csv", headers=READ)
    assert reply.headers["content-type"] == "text/csv; charset=utf-8"
    assert reply.headers["content-disposition"] == 'attachment; filename="sla-2026-03.csv"'
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    [row] = [r for r in rows if r["check_id"] == "api"]
    assert (row["uptime_pct"], row["met"], row["downtime_s"]) == ("60.0", "false", "240.0")
    empty = (await http.get("/monitoring/reports/sla?month=2026-02", headers=READ)).json()
    assert all(r["uptime_pct"] is None and r["met"] is None for r in empty["checks"])
    assert (
        await http.get("/monitoring/reports/sla?month=2026-13", headers=READ)
    ).status_code == 422
