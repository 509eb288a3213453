"""The logs Worker's ASGI app: shared scaffolding plus this Worker's routes and cron."""

from __future__ import annotations

from typing import Any

from logs import maintenance
from logs.routes import admin, ingest, search
from logs.telemetry import Telemetry
from obs_schema.app import Probe, WorkerSpec, create_app
from obs_schema.schedule import Schedule

SPEC = WorkerSpec(
    name="logs",
    prefix="/logs",
    title="Pitchey observability: logs",
    description=(
        "Log ingestion with PII scrubbing, full-text "
        "search, trace correlation, retention and archive."
    ),
    probes=(Probe("CONFIG", "kv"), Probe("ARCHIVE", "r2"), Probe("LOG_SHARD", "durable_object")),
)

app = create_app(SPEC)
app.state.telemetry = Telemetry(app.state.registry)
app.include_router(ingest.router)
app.include_router(search.router)
app.include_router(admin.router)
schedule = Schedule(telemetry=app.state.binding_telemetry)


@schedule.job("7 * * * *")
async def hourly(env: Any, scheduled_ms: int) -> None:
    await maintenance.hourly(env, scheduled_ms)
