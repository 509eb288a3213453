"""A slowed KV, end to end: telemetry, a 5-minute detection, /infra/anomalies, health, alerts.

Honest about the set-up: three days of normal KV latency for the logs Worker (4 ms) are injected
as telemetry batches through the infra Worker's `record_telemetry` RPC (the path every Worker's
telemetry takes); the slow-down itself is real traffic: `/logs/health` requests whose KV reads
go through a test double around the real local KV namespace that adds 250 ms on the manual
clock. The logs Worker's own telemetry layer measures it and ships it to the infra Worker.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from localedge.clock import ManualClock
from localedge.stack import Stack
from obs_schema.telemetry.recorder import bucket_of
from tests.workers.infra.helpers import MINUTE, READ, T0

NORMAL_S = 0.004


def normal_history(days: int) -> dict[str, Any]:
    rows = []
    for m in range(days * 1440):
        latency = NORMAL_S + 0.0004 * ((m * 7919) % 5 - 2)
        minute = T0 - (days * 1440 - m) * MINUTE
        count = 3
        rows.append([minute, "kv", "CONFIG", "get", "miss", count, round(count * latency, 6),
                     latency, 0, [[bucket_of(latency), count]]])  # fmt: skip
    return {"worker": "logs", "ops": rows, "invocations": [], "dropped": {}}


class SlowKV:
    """Around the real KV's `get`: every read takes `latency` seconds on the manual clock."""

    def __init__(self, stack: Stack, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
        self.latency = NORMAL_S
        kv = stack.kv["obs-config"]
        real = kv.get

        async def get(*args: Any, **kwargs: Any) -> Any:
            clock.advance(self.latency)
            return await real(*args, **kwargs)

        monkeypatch.setattr(kv, "get", get)


@pytest.fixture
def alerts(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What reaches the alerting Worker's `receive_alerts` RPC."""
    received: list[dict[str, Any]] = []
    entry = stack.worker("obs-alerting").classes_of(__import__("workers").WorkerEntrypoint)
    default = entry["Default"]
    original = getattr(default, "receive_alerts", None)

    async def receive_alerts(self: Any, events: list[dict[str, Any]]) -> dict[str, Any]:
        received.extend(events)
        if original is not None:
            return dict(await original(self, events))
        return {"accepted": len(events), "rejected": []}

    monkeypatch.setattr(default, "receive_alerts", receive_alerts, raising=False)
    return received


async def traffic(
    http: httpx.AsyncClient, stack: Stack, clock: ManualClock, kv: SlowKV, minutes: int,
    latency: float,
) -> None:  # fmt: skip
    """Two requests a minute; the infra Worker's 5-minute cron (only it) on the 5-minute marks."""
    kv.latency = latency
    for _ in range(minutes):
        for _ in range(2):
            assert (await http.get("/logs/health", headers=READ)).status_code == 200
        clock.set((clock.now() // 60 + 1) * 60)
        if clock.now() % 300 == 0:
            await stack.trigger_cron("*/5 * * * *", worker="obs-infra")
        await stack.drain()


@pytest.mark.anyio
async def test_a_slowed_kv_becomes_an_anomaly_in_health_and_an_alert_then_resolves(
    stack: Stack,
    http: httpx.AsyncClient,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    alerts: list[dict[str, Any]],
) -> None:
    infra = stack.worker("obs-infra").entrypoint()
    seeded = await infra.record_telemetry(normal_history(3))
    assert seeded == {"accepted": 3 * 1440, "skipped": 0, "refused": 0}
    kv = SlowKV(stack, clock, monkeypatch)
    stack.worker("obs-logs").app.state.binding_telemetry.interval = 0
    await traffic(http, stack, clock, kv, 11, latency=0.25)

    found = (await http.get("/infra/anomalies", params={"state": "active"}, headers=READ)).json()
    latency = [a for a in found["anomalies"] if a["metric"] == "binding_operation_duration_seconds"]
    assert len(latency) == 1
    anomaly = latency[0]
    assert anomaly["labels"] == {"binding": "CONFIG", "class": "kv", "op": "get", "worker": "logs"}
    assert (anomaly["signal"], anomaly["state"], anomaly["baseline_days"]) == ("mean", "active", 3)
    assert anomaly["value"] > 0.1 and anomaly["expected"] == pytest.approx(NORMAL_S, rel=0.1)
    assert anomaly["band"]["upper"] < 0.01 and anomaly["score"] > 100
    assert "ms at 00:00 UTC" in anomaly["explanation"]  # the 5 minutes from 00:00
    assert "above the expected 4 ms" in anomaly["explanation"]

    health = (await http.get("/infra/health", headers=READ)).json()
    assert (health["status"], health["resources"]["kv"]["status"]) == ("degraded", "degraded")
    assert health["resources"]["kv"]["p95_ms_5m"] > 200
    assert any(
        "binding_operation_duration_seconds" in a for a in health["resources"]["kv"]["anomalies"]
    )
    public = (await http.get("/infra/health")).json()
    assert public["status"] == "degraded" and "resources" not in public

    fired = [a for a in alerts if a["labels"].get("metric") == "binding_operation_duration_seconds"]
    assert len(fired) == 1 and fired[0]["name"] == "InfraAnomaly"
    assert (fired[0]["status"], fired[0]["source"], fired[0]["severity"]) == (
        "firing", "infra", "error",
    )  # fmt: skip

    # Back to normal; the 5 minutes from 00:10 still hold a slow minute, then two calm steps.
    await traffic(http, stack, clock, kv, 20, latency=NORMAL_S)
    resolved = (
        await http.get("/infra/anomalies", params={"state": "resolved"}, headers=READ)
    ).json()
    assert anomaly["id"] in [a["id"] for a in resolved["anomalies"]]
    closing = [
        a for a in alerts if a["labels"].get("metric") == "binding_operation_duration_seconds"
    ]
    assert [a["status"] for a in closing] == ["firing", "resolved"]


@pytest.mark.anyio
async def test_anomaly_queries_validate_their_parameters(http: httpx.AsyncClient) -> None:
    cases = [({"since": "yesterday"}, 400), ({"state": "open"}, 422), ({}, 200)]
    for params, status in cases:
        reply = await http.get("/infra/anomalies", params=params, headers=READ)
        assert reply.status_code == status, params
    assert reply.json() == {"anomalies": [], "active": 0}
    assert (await http.get("/infra/anomalies")).status_code == 401
