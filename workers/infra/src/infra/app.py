"""The infra Worker's ASGI app: shared scaffolding plus this Worker's routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from infra import health, jobs, snapshot, telemetry
from infra.routes import anomalies, ingest, resources, timeseries
from obs_schema import host
from obs_schema.app import Probe, WorkerSpec, create_app
from obs_schema.schedule import Schedule

SPEC = WorkerSpec(
    name="infra",
    prefix="/infra",
    title="Pitchey observability: infra",
    description="Runtime and storage metrics, edge locations, anomalies and capacity planning.",
    probes=(Probe("CONFIG", "kv"), Probe("METRICS", "durable_object")),
    health_details=health.details,
)

app = create_app(SPEC)
app.include_router(ingest.router)
app.include_router(timeseries.router)
app.include_router(anomalies.router)
app.include_router(resources.router)
schedule = Schedule()
jobs.register(schedule)


async def _own_telemetry(env: Any, batch: dict[str, Any]) -> None:
    """This Worker stores its own binding telemetry directly, not over RPC to itself."""
    await telemetry.receive(env, batch, host.now_ms())


app.state.binding_telemetry.sink = _own_telemetry


@asynccontextmanager
async def instrumented(env: Any) -> AsyncIterator[Any]:
    """`env` with binding telemetry, for entry points other than fetch (cron, RPC), which the
    shared instrumentation middleware does not see; ships what is due afterwards. Shipping
    uses the plain `env`, so storing telemetry is not itself observed."""
    hub = app.state.binding_telemetry
    try:
        wrapped = hub.wrap_env(env)
    except Exception:  # telemetry never stops the work it observes
        wrapped = env
    try:
        yield wrapped
    finally:
        try:
            if hub.due(host.now()):
                hub.flush(env)
        except Exception:
            hub.recorder.dropped["internal"] += 1


async def run_scheduled(cron: str, env: Any, scheduled_ms: int) -> int:
    """The cron jobs of `cron`, their binding calls timed as a request's are."""
    async with instrumented(env) as observed:
        return await schedule.run(cron, observed, scheduled_ms)


async def take_snapshot(env: Any) -> dict[str, Any]:
    async with instrumented(env) as observed:
        return dict(await snapshot.snapshot(observed, host.now_ms()))
