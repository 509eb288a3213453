"""Capacity, edge locations, rate limiting, sources and the snapshot RPC, on the local stack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra import colos
from localedge.clock import ManualClock
from localedge.stack import Stack, StackOptions
from tests.stacks import gateway_client
from tests.workers.infra.helpers import (
    HOUR,
    INGEST,
    READ,
    ROOT,
    T0,
    TOKENS,
    fresh_telemetry,
)  # fmt: skip

DAY = 24 * HOUR


def kv_writes(per_day: list[int]) -> dict[str, Any]:
    """Telemetry of KV writes, spread over each of the last len(per_day) days (hourly rows)."""
    rows = []
    for d, total in enumerate(per_day):
        day = T0 - (len(per_day) - d) * DAY
        for hour in range(24):
            count = total // 24 + (1 if hour < total % 24 else 0)
            rows.append([day + hour * HOUR, "kv", "CONFIG", "put", "ok", count, 0.0, 0.0, 0,
                         [[-(2**31), count]]])  # fmt: skip
    return {"worker": "pitchey-api", "ops": rows, "invocations": [], "dropped": {}}


@pytest.fixture
async def free_plan(tmp_path: Path) -> AsyncIterator[Stack]:
    options = StackOptions(root=ROOT, data_dir=tmp_path / "d", clock=ManualClock(),
                           secrets={**TOKENS, "INFRA_PLAN": "free"})  # fmt: skip
    stack = Stack(options)
    await stack.start(run_timers=False)
    fresh_telemetry(stack)
    yield stack
    await stack.close()


def client(stack: Stack) -> httpx.AsyncClient:
    return gateway_client(stack, "http://x")


@pytest.mark.anyio
async def test_kv_writes_growing_toward_the_free_limit_warn_and_raise_one_alert(
    free_plan: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[dict[str, Any]] = []

    async def receive_alerts(self: Any, events: list[dict[str, Any]]) -> dict[str, Any]:
        sent.extend(events)
        return {"accepted": len(events), "rejected": []}

    default = free_plan.worker("obs-alerting").module.Default
    monkeypatch.setattr(default, "receive_alerts", receive_alerts, raising=False)
    infra = free_plan.worker("obs-infra").entrypoint()
    await infra.record_telemetry(kv_writes([600, 650, 700, 750, 800, 850]))
    await free_plan.trigger_cron("*/5 * * * *", worker="obs-infra")

    async with client(free_plan) as http:
        report = (await http.get("/infra/capacity", headers=READ)).json()
    assert report["plan"] == "free"
    writes = next(r for r in report["resources"] if r["resource"] == "kv_writes")
    assert (writes["source"], writes["period"], writes["limit"]) == ("telemetry", "daily", 1000)
    assert (writes["per_day"], writes["trend_per_day"], writes["days_until_limit"]) == (
        900.0, 50.0, 2.0,
    )  # fmt: skip
    assert writes["level"] == "warning"
    assert writes["message"] == (
        "KV writes, deletes and lists per day: 0 of 1,000 today (0%); at this pace the limit "
        "is reached in 2 day(s); projected 900 by the end of the day."
    )
    assert [e["labels"]["resource"] for e in sent if e["name"] == "InfraCapacity"] == ["kv_writes"]
    assert sent[0]["annotations"]["summary"] == writes["message"]
    assert (await infra.snapshot())["capacity_warnings"] == 1

    await free_plan.trigger_cron("*/5 * * * *", worker="obs-infra")  # same state: no new alert
    assert len([e for e in sent if e["name"] == "InfraCapacity"]) == 1


@pytest.mark.anyio
async def test_colos_come_from_the_workers_own_invocations(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    stack.worker("obs-logs").app.state.binding_telemetry.interval = 0
    for ray in ("a1-LHR", "a2-LHR", "a3-AMS"):
        await http.get("/logs/health", headers={"cf-ray": ray})
    await http.get("/logs/nope", headers={"cf-ray": "a4-AMS"})
    await stack.drain()
    found = (await http.get("/infra/colos", params={"since": "10m"}, headers=READ)).json()
    # The APM Worker answers colo_stats (no spans yet): its view is there, and empty.
    assert found["sources"] == {"telemetry": True, "cloudflare": False, "spans": True}
    assert not any(row["spans"] for row in found["colos"])
    telemetry = {row["colo"]: row["telemetry"] for row in found["colos"] if row["telemetry"]}
    assert telemetry["LHR"]["requests"] == 2 and telemetry["LHR"]["error_rate"] == 0.0
    assert telemetry["AMS"] == {"requests": 2, "errors": 0, "error_rate": 0.0,
                                "p50_ms": 0.0, "p95_ms": 0.0}  # fmt: skip


@pytest.mark.anyio
async def test_rate_limiting_and_sources_report_what_the_security_worker_says(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    await stack.trigger_cron("*/5 * * * *", worker="obs-infra")
    limits = (await http.get("/infra/ratelimits", headers=READ)).json()
    assert limits["latest"] == {"status": "healthy", "rate_limited_5m": 0, "blocks_active": 0,
                                "events_5m": 0}  # fmt: skip
    assert limits["checks"] == 0 and limits["limited_share"] is None
    sources = (await http.get("/infra/sources", headers=READ)).json()
    assert sources["cloudflare_analytics"] == {"configured": False}
    assert sorted(sources["store"]) == ["shard-0", "shard-1", "shard-2", "shard-3"]
    stack.worker("obs-infra").app.state.binding_telemetry.interval = 0
    await http.get("/infra/health", headers=READ)  # probes CONFIG: one KV read, timed
    await stack.drain()  # the infra Worker's own telemetry is stored after its responses
    snapshot = await stack.worker("obs-infra").entrypoint().snapshot()
    # The stack's own KV reads (token checks) take no time on the manual clock.
    assert snapshot == {"anomalies_active": 0, "capacity_warnings": 0, "kv_p95_ms_5m": 0.0}


@pytest.mark.anyio
async def test_summaries_need_a_read_token(http: httpx.AsyncClient) -> None:
    for path in ("/infra/capacity", "/infra/colos", "/infra/ratelimits", "/infra/sources"):
        assert (await http.get(path)).status_code == 401, path


def server_spans(now_s: float, colo: str, durations_ms: list[float], errors: int) -> dict[str, Any]:
    """OTLP/JSON server spans from a Worker at `colo` (named by `cloudflare.colo`)."""
    start_ns = int(now_s * 1e9) - 60 * 10**9
    trace_base = int.from_bytes(colo.encode(), "big") << 16  # distinct per colo, repeatable
    spans = [
        {"traceId": f"{trace_base + i:032x}", "spanId": f"{i + 1:016x}",
         "name": "GET /pitches", "kind": 2, "startTimeUnixNano": str(start_ns),
         "endTimeUnixNano": str(start_ns + int(ms * 1e6)),
         "attributes": [{"key": "cloudflare.colo", "value": {"stringValue": colo}}],
         "status": {"code": 2} if i < errors else {}}
        for i, ms in enumerate(durations_ms)
    ]  # fmt: skip
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}


@pytest.mark.anyio
async def test_colos_show_the_apm_workers_spans_per_edge_location(
    stack: Stack, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    for colo, durations, errors in (("LHR", [10.0, 20.0, 30.0, 40.0], 1), ("SJC", [5.0], 0)):
        body = server_spans(clock.now(), colo, durations, errors)
        reply = await http.post("/v1/traces", json=body, headers=INGEST)
        assert reply.status_code == 200, reply.text
    await stack.drain()
    found = (await http.get("/infra/colos", params={"since": "10m"}, headers=READ)).json()
    assert found["sources"]["spans"] is True and "spans_error" not in found["sources"]
    spans = {row["colo"]: row["spans"] for row in found["colos"] if row["spans"]}
    assert spans["LHR"] == {"requests": 4, "errors": 1, "error_rate": 0.25,
                            "p95_ms": pytest.approx(40.0, rel=0.02)}  # fmt: skip
    assert spans["SJC"]["requests"] == 1 and spans["SJC"]["errors"] == 0
    assert [row["colo"] for row in found["colos"]][:2] == ["LHR", "SJC"]  # busiest first


class FailingApm:
    async def colo_stats(self, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        raise RuntimeError("The RPC receiver does not implement the method")


class Env:
    def __init__(self, apm: Any = None) -> None:
        if apm is not None:
            self.APM = apm


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("env", "reason"),
    [(Env(), "no APM service binding"), (Env(FailingApm()), "failed: RuntimeError: The RPC")],
)
async def test_a_failing_apm_worker_leaves_its_view_out_and_says_why(env: Any, reason: str) -> None:
    rows, error = await colos._spans(env, T0 - HOUR, T0)
    assert rows is None and error is not None and reason in error
