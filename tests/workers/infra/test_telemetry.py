"""Binding telemetry from other Workers, over the real service binding, into stored series."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from infra.samples import Batch
from infra.telemetry import add_batch
from localedge.clock import ManualClock
from localedge.stack import Stack
from tests.workers.infra.helpers import READ, T0

ZERO = -(2**31)


def test_a_batch_becomes_counters_histograms_and_gauges() -> None:
    batch = Batch()
    data = {
        "worker": "logs",
        "ops": [
            [T0, "kv", "CONFIG", "get", "hit", 3, 0.012, 0.006, 300, [[-63, 2], [-59, 1]]],
            [T0, "kv", "CONFIG", "get", "bogus-row"],
            [T0, "disk", "X", "read", "ok", 1, 0.0, 0.0, 0, []],
        ],
        "invocations": [[T0, "2xx", "LHR", 2, 0.1, 0.06, 0, [[ZERO, 1], [-33, 1]], 5, 0]],
        "dropped": {"overflow": 4},
    }
    assert add_batch(batch, data, T0) == (2, 2)
    names = sorted({(e["n"], e["l"]) for e in batch.entries.values()})
    labels = '{"binding":"CONFIG","class":"kv","op":"get","worker":"logs"}'
    with_le = '{"binding":"CONFIG","class":"kv","le":"%s","op":"get","worker":"logs"}'
    assert names == [
        ("binding_operation_duration_seconds_bucket", with_le % "0.00425979583072"),  # 2**(-63/8)
        ("binding_operation_duration_seconds_bucket", with_le % "0.00602426103675"),
        ("binding_operation_duration_seconds_count", labels),
        ("binding_operation_duration_seconds_sum", labels),
        ("binding_operation_max_seconds", labels),
        ("binding_operations_total",
         '{"binding":"CONFIG","class":"kv","op":"get","outcome":"hit","worker":"logs"}'),
        ("binding_transfer_bytes_total", labels),
        ("telemetry_dropped_total", '{"reason":"overflow","worker":"logs"}'),
        ("worker_invocation_duration_seconds_bucket", '{"colo":"LHR","le":"0","worker":"logs"}'),
        ("worker_invocation_duration_seconds_bucket",
         '{"colo":"LHR","le":"0.0573127527003","worker":"logs"}'),
        ("worker_invocation_duration_seconds_count", '{"colo":"LHR","worker":"logs"}'),
        ("worker_invocation_duration_seconds_sum", '{"colo":"LHR","worker":"logs"}'),
        ("worker_invocations_total", '{"colo":"LHR","status":"2xx","worker":"logs"}'),
        ("worker_subrequests_total", '{"worker":"logs"}'),
    ]  # fmt: skip


@pytest.mark.parametrize("data", [None, [], {"worker": 3}, {"ops": []}])
def test_something_that_is_no_batch_is_skipped(data: Any) -> None:
    assert add_batch(Batch(), data, T0) == (0, 1)


async def chart(http: httpx.AsyncClient, metric: str, **params: str) -> dict[str, Any]:
    reply = await http.get(
        "/infra/timeseries", params={"metric": metric, "since": "5m", **params}, headers=READ
    )
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


@pytest.mark.anyio
async def test_calls_on_another_worker_reach_the_store_through_its_infra_binding(
    stack: Stack, http: httpx.AsyncClient, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = stack.kv["obs-config"]
    real_get = config.get

    async def slow_get(*args: Any, **kwargs: Any) -> Any:
        clock.advance(0.2)  # a slowed KV: 200 ms per read on the manual clock
        return await real_get(*args, **kwargs)

    monkeypatch.setattr(config, "get", slow_get)
    stack.worker("obs-logs").app.state.binding_telemetry.interval = 0  # ship after every request
    for _ in range(3):
        reply = await http.get("/logs/health", headers={**READ, "cf-ray": "1234abcd-AMS"})
        assert reply.status_code == 200
    await stack.drain()
    kv_reads = await chart(
        http, "binding_operations_total", labels="worker=logs,class=kv,op=get", by="op"
    )
    assert kv_reads["series"][0]["points"][-1][1] == 4.0  # one token lookup (cached), 3 probes
    slowest = await chart(
        http, "binding_operation_max_seconds", labels="worker=logs,class=kv", fn="max"
    )
    assert slowest["series"][0]["points"][-1][1] == pytest.approx(0.2)
    p95 = await chart(http, "binding_operation_duration_seconds", labels="worker=logs,class=kv")
    assert 0.2 / 1.1 < p95["series"][0]["points"][-1][1] <= 0.2 * 1.1
    calls = await chart(http, "worker_invocations_total", labels="worker=logs")
    assert calls["series"] == [
        {"labels": {"colo": "AMS", "status": "2xx", "worker": "logs"},
         "points": [[p[0], p[1]] for p in calls["series"][0]["points"]]},
    ]  # fmt: skip
    assert calls["series"][0]["points"][-1][1] == 3.0
    wall = await chart(http, "worker_invocation_duration_seconds", labels="worker=logs", fn="mean")
    assert wall["series"][0]["points"][-1][1] == pytest.approx(0.8 / 3)


@pytest.mark.anyio
async def test_the_cron_jobs_binding_calls_are_timed_like_a_requests(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    stack.worker("obs-infra").app.state.binding_telemetry.interval = 0
    await stack.trigger_cron("*/5 * * * *", worker="obs-infra")
    await stack.drain()
    calls = await chart(http, "binding_operations_total", labels="worker=infra,class=do", by="op")
    counted = {s["labels"]["op"]: s["points"][-1][1] for s in calls["series"]}
    # Every shard is measured, maintained and watched: four calls of each.
    assert {op: counted.get(op) for op in ("stats", "maintain", "detect")} == {
        "stats": 4.0, "maintain": 4.0, "detect": 4.0,
    }  # fmt: skip
