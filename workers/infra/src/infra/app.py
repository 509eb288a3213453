"""The infra Worker's ASGI app: shared scaffolding plus this Worker's routes."""

from __future__ import annotations

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
schedule = Schedule(telemetry=app.state.binding_telemetry)
jobs.register(schedule)


async def _own_telemetry(env: Any, batch: dict[str, Any]) -> None:
    """This Worker stores its own binding telemetry directly, not over RPC to itself."""
    await telemetry.receive(env, batch, host.now_ms())


app.state.binding_telemetry.sink = _own_telemetry


async def take_snapshot(env: Any) -> dict[str, Any]:
    async with app.state.binding_telemetry.session(env) as observed:
        return dict(await snapshot.snapshot(observed, host.now_ms()))
