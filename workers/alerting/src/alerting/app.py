"""The alerting Worker's ASGI app: shared scaffolding plus this Worker's routes."""

from __future__ import annotations

from obs_schema.app import Probe, WorkerSpec, create_app
from obs_schema.schedule import Schedule

SPEC = WorkerSpec(
    name="alerting",
    prefix="/alerts",
    title="Pitchey observability: alerting",
    description="Alert rules, routing, deduplication, silences, escalation and incidents.",
    probes=(Probe("CONFIG", "kv"),),
)

app = create_app(SPEC)
schedule = Schedule()
