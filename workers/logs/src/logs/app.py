"""The logs Worker's ASGI app: shared scaffolding plus this Worker's routes."""

from __future__ import annotations

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
    probes=(Probe("CONFIG", "kv"),),
)

app = create_app(SPEC)
schedule = Schedule()
