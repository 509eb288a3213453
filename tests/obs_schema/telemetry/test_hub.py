"""Per-Worker telemetry: invocations recorded, batches shipped after the response, drops counted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import Request

from localedge.clock import ManualClock
from localedge.env import Env
from localedge.kv import KVNamespace
from obs_schema import host
from obs_schema.app import Probe, WorkerSpec, create_app
from obs_schema.exposition import render_text
from obs_schema.schedule import Schedule
from obs_schema.telemetry import Telemetry, colo_of

T0 = 1_767_225_600.0


class Infra:
    """The infra Worker's RPC, as a test double that keeps batches (or fails on demand)."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[dict[str, Any]] = []
        self.fail = fail

    async def record_telemetry(self, batch: dict[str, Any]) -> dict[str, Any]:
        if self.fail:
            raise ConnectionError("infra is down")
        self.batches.append(batch)
        return {"accepted": len(batch["ops"])}


@pytest.mark.parametrize(
    ("header", "colo"),
    [("8f1a2b3c4d5e6f70-LHR", "LHR"), ("abc-SJCX", "SJCX"), (None, "local"), ("junk", "unknown")],
)
def test_the_colo_comes_from_the_cf_ray_header(header: str | None, colo: str) -> None:
    assert colo_of(header) == colo


def build(kv: KVNamespace, telemetry_interval: float = 0.0) -> Any:
    app = create_app(WorkerSpec("demo", "/demo", "Demo", "A demo.", (Probe("CONFIG", "kv"),)))

    @app.get("/demo/read")
    async def read(request: Request) -> dict[str, Any]:
        env = request.scope["env"]
        await env.CONFIG.put("k", "v")
        return {"value": await env.CONFIG.get("k")}

    app.state.binding_telemetry.interval = telemetry_interval
    return app


def client(app: Any, env: dict[str, Any]) -> httpx.AsyncClient:
    async def with_env(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await app(dict(scope, env=Env(env)), receive, send)

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=with_env), base_url="http://d")


@pytest.mark.anyio
async def test_a_request_ships_its_invocation_and_binding_calls_to_infra(
    kv: KVNamespace, clock: ManualClock
) -> None:
    infra = Infra()
    async with client(build(kv), {"CONFIG": kv, "INFRA": infra}) as http:
        reply = await http.get("/demo/read", headers={"cf-ray": "8f1a2b3c4d5e6f70-CDG"})
        await host.drain()
    assert reply.json() == {"value": "v"}
    (batch,) = infra.batches
    minute = int(T0 * 1000)
    assert batch["worker"] == "demo"
    assert batch["ops"] == [
        [minute, "kv", "CONFIG", "put", "ok", 1, 0.0, 0.0, 1, [[-(2**31), 1]]],
        [minute, "kv", "CONFIG", "get", "hit", 1, 0.0, 0.0, 1, [[-(2**31), 1]]],
    ]
    assert batch["invocations"] == [[minute, "2xx", "CDG", 1, 0.0, 0.0, 0, [[-(2**31), 1]], 2, 0]]


@pytest.mark.anyio
async def test_batches_wait_for_the_flush_interval(kv: KVNamespace, clock: ManualClock) -> None:
    infra = Infra()
    async with client(build(kv, telemetry_interval=10), {"CONFIG": kv, "INFRA": infra}) as http:
        for _ in range(3):
            await http.get("/demo/read")
        clock.advance(10)
        await http.get("/demo/read")
        await host.drain()
    assert [sum(row[3] for row in b["invocations"]) for b in infra.batches] == [1, 3]


@pytest.mark.anyio
async def test_an_unreachable_infra_never_fails_the_request_and_drops_are_counted(
    kv: KVNamespace, clock: ManualClock
) -> None:
    infra = Infra(fail=True)
    app = build(kv)
    async with client(app, {"CONFIG": kv, "INFRA": infra}) as http:
        first = await http.get("/demo/read")
        await host.drain()
        infra.fail = False
        second = await http.get("/demo/read")
        await host.drain()
    assert first.status_code == second.status_code == 200
    telemetry: Telemetry = app.state.binding_telemetry
    assert (telemetry.shipping.failed, telemetry.shipping.dropped) == (1, 3)
    assert infra.batches[0]["dropped"] == {"ship_failed": 3}
    exposition = render_text(app.state.registry)
    assert 'telemetry_dropped_total{reason="ship_failed"} 3' in exposition
    assert 'telemetry_batches_total{result="failed"} 1' in exposition


@pytest.mark.anyio
async def test_without_an_infra_binding_batches_are_dropped_and_counted(
    kv: KVNamespace, clock: ManualClock
) -> None:
    app = build(kv)
    async with client(app, {"CONFIG": kv}) as http:
        assert (await http.get("/demo/read")).status_code == 200
        await host.drain()
    assert app.state.binding_telemetry.shipping.last_error == "no INFRA service binding"


@pytest.mark.anyio
async def test_a_local_sink_replaces_shipping(kv: KVNamespace, clock: ManualClock) -> None:
    kept: list[dict[str, Any]] = []

    async def sink(env: Any, batch: dict[str, Any]) -> None:
        kept.append(batch)

    app = build(kv)
    app.state.binding_telemetry.sink = sink
    async with client(app, {"CONFIG": kv}) as http:
        await http.get("/demo/read")
        await host.drain()
    assert len(kept) == 1 and kept[0]["ops"][0][1:5] == ["kv", "CONFIG", "put", "ok"]


@pytest.mark.anyio
async def test_cron_jobs_binding_calls_are_timed_and_shipped_with_the_plain_env(
    kv: KVNamespace, clock: ManualClock
) -> None:
    infra = Infra()
    app = build(kv)
    schedule = Schedule(telemetry=app.state.binding_telemetry)
    seen: list[Any] = []

    @schedule.job("*/5 * * * *")
    async def job(env: Any, scheduled_ms: int) -> None:
        seen.append(env)
        await env.CONFIG.put("cron", "ran")

    env = Env({"CONFIG": kv, "INFRA": infra})
    assert await schedule.run("*/5 * * * *", env, int(T0 * 1000)) == 0
    await host.drain()
    (batch,) = infra.batches
    assert [row[1:5] for row in batch["ops"]] == [["kv", "CONFIG", "put", "ok"]]
    assert seen[0] is not env  # the job saw the timed env; shipping used the plain one


@pytest.mark.anyio
async def test_a_schedule_without_telemetry_hands_its_jobs_the_env_as_it_is(
    kv: KVNamespace,
) -> None:
    schedule = Schedule()
    seen: list[Any] = []

    @schedule.job("0 * * * *")
    async def job(env: Any, scheduled_ms: int) -> None:
        seen.append(env)

    env = Env({"CONFIG": kv})
    await schedule.run("0 * * * *", env, 0)
    assert seen == [env]
