"""The security Worker's ASGI app: shared scaffolding plus this Worker's routes."""

from __future__ import annotations

from obs_schema.app import Probe, WorkerSpec, create_app
from obs_schema.schedule import Schedule

SPEC = WorkerSpec(
    name="security",
    prefix="/security",
    title="Pitchey observability: security",
    description=(
        "Rate limiting, threat and anomaly detection, security events and automated response."
    ),
    probes=(Probe("CONFIG", "kv"),),
)

app = create_app(SPEC)
schedule = Schedule()
