"""The alerting Worker's ASGI app: shared scaffolding plus this Worker's routes.

Routers are included in an order that makes fixed paths (`/alerts/silences`, `/alerts/config`)
win over the catch-all `/alerts/{fingerprint}`.
"""

from __future__ import annotations

from typing import Any

from alerting import evaluator
from alerting.api import alerts, incidents, intake, settings, silences
from alerting.telemetry import AlertingMetrics
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
metrics = AlertingMetrics(app.state.registry)
schedule = Schedule(telemetry=app.state.binding_telemetry)

app.include_router(intake.router(metrics))
app.include_router(silences.router())
app.include_router(settings.router(metrics))
app.include_router(incidents.router())
app.include_router(alerts.links_router())
app.include_router(alerts.router(metrics))
app.include_router(alerts.item_router())


@schedule.job("* * * * *")
async def evaluate_rules(env: Any, scheduled_ms: int) -> None:
    await evaluator.cycle(env, scheduled_ms, metrics)
