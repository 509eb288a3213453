"""The monitoring Worker's ASGI app: shared scaffolding plus this Worker's routes."""

from __future__ import annotations

from obs_schema.app import Probe, WorkerSpec, create_app
from obs_schema.schedule import Schedule

SPEC = WorkerSpec(
    name="monitoring",
    prefix="/monitoring",
    title="Pitchey observability: monitoring",
    description="Health checks, uptime, incidents and the public status page.",
    probes=(Probe("CONFIG", "kv"),),
)

app = create_app(SPEC)
schedule = Schedule()
