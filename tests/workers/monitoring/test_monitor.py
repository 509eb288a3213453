"""Scripted histories on the fake clock, end to end through HTTP: a target goes down and comes
back, a heartbeat is missed and recovered, maintenance holds alerts back. Every instant, duration
and uptime figure is exact because the stack's alarms fire at their due times."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from localedge.stack import Stack
from obs_schema.timespec import format_rfc3339
from tests.stacks import gateway_client
from tests.workers.monitoring.support import ADMIN, READ, START, Target


def at(seconds: float) -> str:
    """RFC 3339 of START + seconds."""
    return format_rfc3339(START + seconds)


async def create(http: httpx.AsyncClient, **spec: Any) -> dict[str, Any]:
    reply = await http.post("/monitoring/checks", json=spec, headers=ADMIN)
    assert reply.status_code == 201, reply.text
    created: dict[str, Any] = reply.json()
    return created


async def results(http: httpx.AsyncClient, check_id: str) -> list[tuple[str, bool, int]]:
    reply = await http.get(f"/monitoring/checks/{check_id}/results?since=1d", headers=READ)
    return [(r["time"], r["ok"], r["attempt"]) for r in reversed(reply.json()["results"])]


async def uptime(http: httpx.AsyncClient, check_id: str, window: str = "24h") -> dict[str, Any]:
    reply = await http.get(f"/monitoring/uptime?check={check_id}&window={window}", headers=READ)
    figures: dict[str, Any] = reply.json()["checks"][0]["windows"][window]
    return figures


def mine(alerts: list[dict[str, Any]], check_id: str) -> list[dict[str, Any]]:
    return [a for a in alerts if a["labels"]["check"] == check_id]


@pytest.mark.anyio
async def test_an_outage_is_confirmed_recorded_alerted_and_resolved_exactly(
    stack: Stack, http: httpx.AsyncClient, target: Target, alerts: list[dict[str, Any]]
) -> None:
    await create(http, type="http", id="api", name="Pitchey API", url=f"{target.url}/health",
                 interval=60, confirmations=2, retry_interval=5)  # fmt: skip
    await stack.advance(61)  # runs at 0 s and 60 s pass
    target.status = 503  # the API breaks at 61 s
    await stack.advance(64)  # 120 s fails, the prompt retry at 125 s confirms the outage
    [down] = mine(alerts, "api")
    assert (down["name"], down["status"], down["severity"]) == ("CheckDown", "firing", "critical")
    assert down["starts_at"] == at(120) and down["ends_at"] is None
    assert down["labels"] == {"check": "api", "check_type": "http"}
    assert down["annotations"]["summary"] == "Pitchey API is down"
    assert down["annotations"]["error"] == "HTTP 503 (accepted: 200-299)"
    assert down["annotations"]["last_good"] == at(60)
    assert float(down["annotations"]["latency_ms"]) > 0
    # Detected within one interval plus the confirming retry of the moment it broke.
    assert START + 125 <= START + 61 + 60 + 5

    await stack.advance(125)  # 250 s: still down, alerted once
    assert len(mine(alerts, "api")) == 1
    target.status = 200  # fixed at 250 s: the 300 s run sees it
    await stack.advance(50)
    down_again, back = mine(alerts, "api")
    assert down_again == down
    assert (back["name"], back["status"], back["fingerprint"]) == (
        "CheckDown", "resolved", down["fingerprint"],
    )  # fmt: skip
    assert (back["starts_at"], back["ends_at"]) == (at(120), at(300))
    assert back["annotations"]["summary"] == "Pitchey API is back up after 3m"

    incidents = (await http.get("/monitoring/incidents?check=api", headers=READ)).json()
    assert incidents["incidents"] == [{
        "id": f"api:{round((START + 120) * 1000)}", "check_id": "api", "check_name": "Pitchey API",
        "cause": "down", "started_at": at(120), "ended_at": at(300), "open": False,
        "duration_s": 180.0, "first_error": "HTTP 503 (accepted: 200-299)",
    }]  # fmt: skip
    assert await results(http, "api") == [
        (at(0), True, 1), (at(60), True, 1), (at(120), False, 1), (at(125), False, 2),
        (at(180), False, 3), (at(240), False, 4), (at(300), True, 5),
    ]  # fmt: skip

    await stack.advance(300)  # now 600 s: monitored 600 s, down 180 s
    assert await uptime(http, "api") == {
        "start": at(600 - 86400), "end": at(600), "uptime_pct": 70.0, "monitored_s": 600.0,
        "downtime_s": 180.0, "maintenance_s": 0.0, "incidents": 1,
        "latency": (await uptime(http, "api"))["latency"],
    }  # fmt: skip
    latency = (await uptime(http, "api"))["latency"]
    assert latency["count"] == 8  # the successful runs: 0, 60, 300 ... 600 s
    assert latency["p50_ms"] <= latency["p95_ms"] <= latency["p99_ms"] == latency["max_ms"]


@pytest.mark.anyio
async def test_a_missed_heartbeat_goes_down_and_the_next_beat_recovers_it(
    stack: Stack, http: httpx.AsyncClient, alerts: list[dict[str, Any]]
) -> None:
    created = await create(http, type="heartbeat", id="nightly-backup", name="Nightly backup",
                           interval=300, grace=60)  # fmt: skip
    beat_url = created["heartbeat_url"]
    path = httpx.URL(beat_url).path
    assert created["state"]["next_due"] == at(360)

    await stack.advance(100)
    assert (await http.get(f"{path}?ping=120")).json() == {
        "check_id": "nightly-backup", "accepted": True, "status": "up",
    }  # fmt: skip
    await stack.advance(300)
    assert (await http.post(f"{path}?ping=80")).status_code == 200  # at 400 s
    await stack.advance(359)  # the deadline is 400 + 300 + 60 = 760 s
    assert mine(alerts, "nightly-backup") == []
    await stack.advance(1)
    [missed] = mine(alerts, "nightly-backup")
    assert (missed["name"], missed["status"], missed["starts_at"]) == (
        "HeartbeatMissed", "firing", at(760),
    )  # fmt: skip
    assert missed["annotations"]["error"] == f"no heartbeat since {at(400)}"

    await stack.advance(240)
    await http.get(f"{path}?ping=100")  # at 1000 s
    _, recovered = mine(alerts, "nightly-backup")
    assert (recovered["status"], recovered["starts_at"], recovered["ends_at"]) == (
        "resolved", at(760), at(1000),
    )  # fmt: skip
    await stack.advance(200)
    figures = await uptime(http, "nightly-backup")
    assert (figures["uptime_pct"], figures["downtime_s"], figures["monitored_s"]) == (
        80.0, 240.0, 1200.0,
    )  # fmt: skip
    # A job's own durations (`ping`) are the latency: exact percentiles.
    assert {k: figures["latency"][k] for k in ("count", "p50_ms", "p95_ms", "max_ms")} == {
        "count": 3, "p50_ms": 100.0, "p95_ms": 120.0, "max_ms": 120.0,
    }  # fmt: skip


@pytest.mark.anyio
async def test_a_job_reporting_failure_is_down_at_once_and_unknown_urls_are_404(
    stack: Stack, http: httpx.AsyncClient, alerts: list[dict[str, Any]]
) -> None:
    created = await create(http, type="heartbeat", id="etl", name="ETL", interval=3600)
    path = httpx.URL(created["heartbeat_url"]).path
    await stack.advance(30)
    reply = await http.post(f"{path}?status=down&msg=disk%20full")
    assert reply.json()["status"] == "down"
    [down] = mine(alerts, "etl")
    assert (down["name"], down["starts_at"], down["annotations"]["error"]) == (
        "JobFailed", at(30), "disk full",
    )  # fmt: skip
    incidents = (await http.get("/monitoring/incidents?check=etl", headers=READ)).json()
    assert incidents["incidents"][0]["cause"] == "job_failed"
    await stack.advance(30)
    await http.get(path)  # the next run succeeds: the same alert resolves
    resolved = mine(alerts, "etl")[-1]
    assert (resolved["name"], resolved["status"]) == ("JobFailed", "resolved")
    missing = await http.get("/monitoring/heartbeat/not-a-token")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


@pytest.mark.anyio
async def test_maintenance_holds_alerts_back_and_is_left_out_of_uptime(
    stack: Stack, http: httpx.AsyncClient, target: Target, alerts: list[dict[str, Any]]
) -> None:
    window = {"start": at(100), "end": at(400), "reason": "database upgrade"}
    await create(http, type="http", id="web", name="Website", url=target.url, interval=60,
                 maintenance=[window])  # fmt: skip
    await stack.advance(110)
    target.status = 500  # breaks during maintenance: 120 s fails, 125 s confirms
    await stack.advance(200)
    assert mine(alerts, "web") == []
    status = (await http.get("/monitoring/status.json")).json()
    [web] = [c for c in status["components"] if c["id"] == "web"]
    assert web["status"] == "maintenance"
    await stack.advance(110)  # 420 s: maintenance is over and it is still down
    [late] = mine(alerts, "web")
    assert (late["status"], late["starts_at"]) == ("firing", at(120))
    target.status = 200
    await stack.advance(60)  # 480 s: back
    assert [a["status"] for a in mine(alerts, "web")] == ["firing", "resolved"]
    figures = await uptime(http, "web")
    # 480 s since creation, 300 s of maintenance; down from 400 s (end of maintenance) to 480 s.
    assert (figures["monitored_s"], figures["maintenance_s"], figures["downtime_s"]) == (
        180.0, 300.0, 80.0,
    )  # fmt: skip
    assert figures["uptime_pct"] == round(100 * 100 / 180, 4)


@pytest.mark.anyio
async def test_slow_answers_degrade_and_recover_with_a_warning(
    stack: Stack, http: httpx.AsyncClient, target: Target, alerts: list[dict[str, Any]]
) -> None:
    await create(http, type="http", id="search", name="Search", url=target.url, interval=60,
                 degraded_latency_ms=150)  # fmt: skip
    await stack.advance(1)
    target.delay_s = 0.2
    await stack.advance(60)
    [slow] = mine(alerts, "search")
    assert (slow["name"], slow["severity"], slow["status"]) == (
        "CheckDegraded",
        "warning",
        "firing",
    )
    assert float(slow["annotations"]["latency_ms"]) >= 150
    target.delay_s = 0
    await stack.advance(60)
    assert [a["status"] for a in mine(alerts, "search")] == ["firing", "resolved"]
    check = (await http.get("/monitoring/checks/search", headers=READ)).json()
    assert check["state"]["status"] == "up"


@pytest.mark.anyio
async def test_undelivered_alerts_wait_in_the_outbox_and_go_out_on_the_next_run(
    stack: Stack, http: httpx.AsyncClient, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[dict[str, Any]] = []
    module = stack.worker("obs-alerting").module

    class Flaky(module.Default):  # type: ignore[misc, name-defined]
        calls = 0

        async def receive_alerts(self, events: list[dict[str, Any]]) -> dict[str, Any]:
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise RuntimeError("alerting is deploying")
            received.extend(events)
            return {"accepted": len(events), "rejected": []}

    monkeypatch.setattr(module, "Default", Flaky)
    target.status = 500
    await create(http, type="http", id="api", name="API", url=target.url, confirmations=1)
    await stack.advance(0)
    check = (await http.get("/monitoring/checks/api", headers=READ)).json()
    assert check["state"]["pending_alerts"] == 1 and received == []
    await stack.advance(60)
    assert [(a["name"], a["starts_at"]) for a in received] == [("CheckDown", at(0))]


@pytest.mark.anyio
async def test_the_cron_re_arms_a_monitor_whose_alarm_went_missing(
    stack: Stack, http: httpx.AsyncClient, target: Target
) -> None:
    await create(http, type="http", id="api", name="API", url=target.url)
    await stack.advance(0)
    namespace = stack.durable[("obs-monitoring", "Monitor")]
    monitor_id = namespace.idFromName("api").toString()
    stack.scheduler.cancel(f"alarm:obs-monitoring:Monitor:{monitor_id}")  # the alarm is lost
    namespace._residents[monitor_id].storage.store_alarm(None)
    await stack.advance(150)  # the 60 s and 120 s runs are missed; the sweep at 151 s is not
    assert [r[0] for r in await results(http, "api")] == [at(0)]
    await stack.advance(30)  # the 180 s cron finds it 120 s late and runs it at once
    assert [r[0] for r in await results(http, "api")] == [at(0), at(180)]
    await stack.advance(60)
    assert [r[0] for r in await results(http, "api")][-1] == at(240)  # back on its grid


@pytest.mark.anyio
async def test_checks_results_and_incidents_survive_a_restart(
    stack: Stack, http: httpx.AsyncClient, target: Target, tmp_path: Any
) -> None:
    from localedge.clock import ManualClock
    from localedge.stack import StackOptions
    from tests.workers.monitoring.support import ROOT, TOKENS

    target.status = 500
    await create(http, type="http", id="api", name="API", url=target.url, confirmations=1)
    await stack.advance(60)
    await stack.close()
    clock = ManualClock(START + 60)
    again = Stack(StackOptions(root=ROOT, data_dir=tmp_path / "data", clock=clock, secrets=TOKENS))
    await again.start(run_timers=False)
    try:
        async with gateway_client(again, "http://local") as client:
            await again.advance(60)  # the persisted alarm fires at 120 s
            assert [r[0] for r in await results(client, "api")] == [at(0), at(60), at(120)]
            incidents = (await client.get("/monitoring/incidents", headers=READ)).json()
            assert [i["started_at"] for i in incidents["incidents"]] == [at(0)]
    finally:
        await again.close()
