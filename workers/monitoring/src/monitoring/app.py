"""The monitoring Worker's ASGI app: shared scaffolding plus this Worker's routes and cron."""

from __future__ import annotations

from typing import Any

from monitoring import control, metrics
from monitoring.routes import checks, heartbeat, history, status
from obs_schema import host
from obs_schema.app import Probe, WorkerSpec, create_app
from obs_schema.schedule import Schedule

SPEC = WorkerSpec(
    name="monitoring",
    prefix="/monitoring",
    title="Pitchey observability: monitoring",
    description="Health checks, uptime, incidents and the public status page.",
    probes=(Probe("CONFIG", "kv"), Probe("REGISTRY", "durable_object")),
    health_route=False,  # routes/status.py serves /monitoring/health for the whole stack
)
# Late runs beyond this are re-armed by the cron sweep (an alarm went missing).
OVERDUE_SLACK_MS = 90_000

app = create_app(SPEC)
for module in (checks, history, status, heartbeat):
    app.include_router(module.router)
schedule = Schedule(telemetry=app.state.binding_telemetry)
gauges = metrics.Gauges(app.state.registry)


@schedule.job("* * * * *")
async def every_minute(env: Any, scheduled_ms: int) -> None:
    """Apply the declared checks, re-arm monitors that fell behind, refresh the summary."""
    await control.sync_declared(env)
    late: list[str] = await control.registry(env).overdue(host.now_ms(), OVERDUE_SLACK_MS)
    for check_id in late:
        await control.monitor(env, check_id).ensure()
    summary_doc = await status.refresh_summary(env)
    gauges.update(summary_doc)
