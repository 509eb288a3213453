"""The apm Worker's ASGI app: shared scaffolding plus this Worker's routes."""

from __future__ import annotations

from apm import jobs, routes_config, routes_ingest, routes_query
from obs_schema.app import Probe, WorkerSpec, create_app
from obs_schema.metrics import Counter
from obs_schema.schedule import Schedule

SPEC = WorkerSpec(
    name="apm",
    prefix="/apm",
    title="Pitchey observability: apm",
    description="Distributed traces, latency percentiles, database and dependency timings.",
    probes=(Probe("CONFIG", "kv"),),
)

app = create_app(SPEC)
# Per isolate, like every series of /apm/metrics: stored, duplicate (exporter retries), rejected.
app.state.spans_total = Counter(
    "apm_spans_received_total",
    "Spans received by the apm Worker, by outcome.",
    ("outcome",),
    registry=app.state.registry,
)
app.include_router(routes_ingest.router)
app.include_router(routes_query.router)
app.include_router(routes_config.router)
schedule = Schedule(telemetry=app.state.binding_telemetry)
jobs.register(schedule)
