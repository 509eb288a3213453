"""The rule cycle: gather every Worker's `snapshot()`, evaluate the rules in the hub.

Run by the `* * * * *` cron (and on demand). The alerting Worker's own numbers are included
as `alerting.*`, so rules can watch, for instance, how many alerts are firing.
"""

from __future__ import annotations

from typing import Any

from alerting import ingestion, signals
from alerting.client import Hub
from alerting.telemetry import AlertingMetrics
from obs_schema import host


async def cycle(
    env: Any, scheduled_ms: int | None, metrics: AlertingMetrics | None = None
) -> dict[str, Any]:
    snapshots, available = await signals.gather(env)
    hub = Hub(env)
    snapshots["alerting"] = await hub.call("snapshot")
    available.append("alerting")
    try:
        result: dict[str, Any] = await hub.call(
            "evaluate", snapshots=snapshots, available=available, now_ms=scheduled_ms
        )
    except Exception:
        if metrics is not None:
            metrics.rule_cycles.labels(outcome="failed").inc()
        raise
    if metrics is not None:
        metrics.rule_cycles.labels(outcome="ok").inc()
        metrics.counted("rules", int(result.get("events", 0)), 0)
    opened = [int(i) for i in result.get("opened_incidents", [])]
    if opened:
        host.defer(ingestion.capture_impact(env, opened, "at_open"))
    return {**result, "sources": available}
