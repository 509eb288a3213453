"""The infra Worker's ASGI app: shared scaffolding plus this Worker's routes."""

from __future__ import annotations

from infra.routes import ingest, timeseries
from obs_schema.app import Probe, WorkerSpec, create_app
from obs_schema.schedule import Schedule

SPEC = WorkerSpec(
    name="infra",
    prefix="/infra",
    title="Pitchey observability: infra",
    description="Runtime and storage metrics, edge locations, anomalies and capacity planning.",
    probes=(Probe("CONFIG", "kv"), Probe("METRICS", "durable_object")),
)

app = create_app(SPEC)
app.include_router(ingest.router)
app.include_router(timeseries.router)
schedule = Schedule()
