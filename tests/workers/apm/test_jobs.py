"""Cron work on the stack: threshold alerts, tail sampling, archive and retention, snapshot."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from apm import archive
from localedge.clock import ManualClock
from localedge.stack import Stack
from tests.workers.apm.conftest import ADMIN, READ, START, received_alerts
from tests.workers.apm.test_routes_query import send, span

HOUR = 3600.0
DAY = 24 * HOUR


async def rules(http: httpx.AsyncClient, *given: dict[str, Any]) -> None:
    reply = await http.put("/apm/thresholds", json={"rules": list(given)}, headers=ADMIN)
    assert reply.status_code == 200, reply.text


@pytest.mark.anyio
async def test_a_p95_breach_fires_once_and_resolves_once(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    await rules(http, {"id": "api-p95", "service": "api", "metric": "p95", "threshold": 100})
    await send(http, [span(i + 1, i + 1, ms=400.0 + i) for i in range(5)])
    await stack.advance(60)  # the minute cron evaluates [-4 min, now)
    await stack.advance(60)  # still breached: no second alert
    firing = await received_alerts(stack)
    states = (await http.get("/apm/thresholds", headers=READ)).json()["states"]
    await stack.advance(5 * 60)  # the window empties: below min_requests, resolved
    events = await received_alerts(stack)
    assert [(e["name"], e["status"]) for e in events] == [
        ("ApmLatencyP95High", "firing"),
        ("ApmLatencyP95High", "resolved"),
    ]
    alert = firing[0]
    assert alert["labels"] == {"service": "api", "rule": "api-p95", "metric": "p95"}
    assert alert["source"] == "apm" and alert["severity"] == "warning"
    assert alert["annotations"]["summary"].startswith("api: p95 40")
    assert alert["annotations"]["requests"] == "5"
    assert alert["annotations"]["example_trace_ids"] == f"{5:032x}"
    assert [(s["rule"], s["firing"]) for s in states] == [("api-p95", True)]
    assert events[1]["starts_at"] == alert["starts_at"] and events[1]["ends_at"]


@pytest.mark.anyio
async def test_no_traffic_and_error_rate_rules(http: httpx.AsyncClient, stack: Stack) -> None:
    await rules(
        http,
        {"id": "quiet", "service": "billing", "metric": "no_traffic", "threshold": 2},
        {"id": "errors", "service": "api", "route": "/pitches", "metric": "error_rate",
         "threshold": 20, "min_requests": 2, "severity": "critical"},
    )  # fmt: skip
    await send(http, [span(1, 1, status={"code": "error"}), span(2, 2)])
    await stack.advance(60)
    names = {(e["name"], e["status"], e["severity"]) for e in await received_alerts(stack)}
    assert names == {
        ("ApmNoTraffic", "firing", "warning"),
        ("ApmErrorRateHigh", "firing", "critical"),
    }


@pytest.mark.anyio
async def test_rules_are_validated(http: httpx.AsyncClient) -> None:
    bad = [
        {"id": "x", "service": "api", "metric": "p42", "threshold": 1},
        {"id": "x", "service": "api", "metric": "apdex", "threshold": 3},
        {"id": "bad id!", "service": "api", "metric": "p95", "threshold": 1},
    ]
    for rule in bad:
        reply = await http.put("/apm/thresholds", json={"rules": [rule]}, headers=ADMIN)
        assert reply.status_code == 422, rule
    twice = {"id": "x", "service": "api", "metric": "p95", "threshold": 1}
    reply = await http.put("/apm/thresholds", json={"rules": [twice, twice]}, headers=ADMIN)
    assert reply.status_code == 422


@pytest.mark.anyio
async def test_tail_sampling_keeps_errors_and_slow_traces_and_counts_everything(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    sampling = {"keep_fraction": 0.0, "latency_ms": 1000, "decision_wait_s": 30}
    await http.put("/apm/config", json={"sampling": sampling}, headers=ADMIN)
    await send(http, [span(1, 1, status={"code": "error"}), span(2, 2, ms=1500.0), span(3, 3)])
    await stack.advance(60)
    statuses = [
        (await http.get(f"/apm/traces/{t:032x}", headers=READ)).status_code for t in (1, 2, 3)
    ]
    await send(http, [span(3, 30, name="late child", parent_span_id=f"{3:016x}")])
    late = await http.get(f"/apm/traces/{3:032x}", headers=READ)
    summary = (await http.get("/apm/summary", headers=READ)).json()
    assert statuses == [200, 200, 404]
    assert late.status_code == 404
    assert summary["routes"][0]["requests"] == 4  # sketches count every span, sampled or not


@pytest.mark.anyio
async def test_old_spans_move_to_r2_and_stay_readable_until_retention(
    http: httpx.AsyncClient, stack: Stack, clock: ManualClock
) -> None:
    await send(http, [span(7, 1), span(7, 2, parent_span_id=f"{1:016x}", service="db")])
    clock.set(START + DAY + 2 * HOUR)
    await stack.trigger_cron("17 * * * *")
    bucket = stack.worker("obs-apm").env.ARCHIVE
    objects = (await bucket.list(prefix="spans/"))["objects"]
    archived = (await http.get(f"/apm/traces/{7:032x}", headers=READ)).json()
    assert [o.key.rsplit("/", 1)[0] for o in objects] == ["spans/2026/01/01/00"]
    assert archived["archived"] is True and archived["span_count"] == 2
    clock.set(START + 32 * DAY)
    await stack.trigger_cron("17 * * * *")
    assert (await bucket.list(prefix="spans/"))["objects"] == []
    gone = await http.get(f"/apm/traces/{7:032x}", headers=READ)
    assert gone.status_code == 404


@pytest.mark.anyio
async def test_archived_traces_are_found_by_span_conditions_except_attributes(
    http: httpx.AsyncClient, stack: Stack, clock: ManualClock
) -> None:
    root = span(9, 1, ms=300.0, status={"code": "error"})
    query_span = span(9, 2, ms=40.0, parent_span_id=f"{1:016x}", service="db", name="SELECT")
    query_span["attributes"] = {}  # route: its name
    await send(http, [root, query_span, span(10, 3, ms=5.0)])
    clock.set(START + DAY + 2 * HOUR)
    await stack.trigger_cron("17 * * * *")

    async def found(**params: str) -> list[str]:
        window = {"since": f"{int(START * 1000) - 60_000}", "until": f"{int(clock.now() * 1000)}"}
        reply = await http.get("/apm/traces", params={**window, **params}, headers=READ)
        assert reply.status_code == 200, reply.text
        return [row["trace_id"][-2:] for row in reply.json()["traces"]]

    assert (await http.get(f"/apm/traces/{9:032x}", headers=READ)).json()["archived"] is True
    assert await found(route="/pitches") == ["0a", "09"]
    assert await found(route="/pitches", status="error", min_duration_ms="250") == ["09"]
    assert await found(route="/pitches", min_duration_ms="301") == []
    assert await found(service="db", route="SELECT", min_duration_ms="30") == ["09"]
    assert await found(service="db", status="error") == []  # the error is the api span's
    assert await found(**{"attr.http.route": "/pitches"}) == []  # R2 only: not searched


@pytest.mark.anyio
async def test_every_archive_batch_gets_its_own_object(
    http: httpx.AsyncClient, stack: Stack, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "BATCH_TRACES", 1)
    same_shard = [t * 8 for t in range(1, 4)]  # ids ending ...8, ...16, ...24: one span shard
    await send(http, [span(t, t) for t in same_shard])
    clock.set(START + DAY + HOUR)
    await stack.trigger_cron("17 * * * *")
    objects = (await stack.worker("obs-apm").env.ARCHIVE.list(prefix="spans/"))["objects"]
    fetched = [
        (await http.get(f"/apm/traces/{t:032x}", headers=READ)).json()["archived"]
        for t in same_shard
    ]
    assert len(objects) == 3 and fetched == [True, True, True]


@pytest.mark.anyio
async def test_the_snapshot_rpc_reports_the_last_five_minutes(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    await send(
        http,
        [
            span(1, 1, ms=20.0),
            span(2, 2, ms=40.0, status={"code": "error"}),
            span(3, 3, service="web"),
        ],
    )
    snapshot = await stack.worker("obs-apm").entrypoint().snapshot()
    assert snapshot == {
        "requests_5m": 3,
        "error_rate_5m": round(1 / 3, 6),
        "p95_ms_5m": pytest.approx(40.0, rel=0.01),
        "p99_ms_5m": pytest.approx(40.0, rel=0.01),
        "by_service_5m": {
            "api": {"requests": 2, "error_rate": 0.5, "p95_ms": pytest.approx(40.0, rel=0.01)},
            "web": {"requests": 1, "error_rate": 0.0, "p95_ms": pytest.approx(10.0, rel=0.01)},
        },
    }
