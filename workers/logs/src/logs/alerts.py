"""From stored rows to alerts on the alerting Worker: summary, gate, AlertEvents, alertsink.

Runs after the ingest answer (`host.defer`): monitoring never slows what it observes. The
alert carries the record's trace id and links to the query and the trace.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from logs.gate import summarise
from logs.rows import LEVEL_NAMES
from logs.settings import Settings
from obs_schema import host
from obs_schema.alertsink import send_alerts
from obs_schema.models.alert import AlertAnnotations, AlertEvent, AlertLink, AlertSeverity
from obs_schema.timespec import format_rfc3339

GATE_NAME = "alert-gate"
log = logging.getLogger("logs.alerts")


async def observe(env: Any, rows: Sequence[list[Any]], settings: Settings) -> None:
    groups = summarise(rows)
    if not groups:
        return
    policy = {
        "threshold": settings.error_burst,
        "window_ms": settings.error_burst_window_ms,
        "dedup_ms": settings.alert_dedup_ms,
    }
    decided = await env.LOG_GATE.getByName(GATE_NAME).decide(groups, host.now_ms(), policy)
    if decided:
        await send_alerts(env, [event(alert, settings) for alert in decided])


def event(alert: dict[str, Any], settings: Settings) -> AlertEvent:
    service, level = alert["service"], LEVEL_NAMES[alert["level"]]
    since = format_rfc3339((alert["ts"] - settings.error_burst_window_ms) / 1000)
    query = urlencode({"service": service, "level": "error", "since": since})
    links = [AlertLink(url=f"{settings.public_url}/logs/query?{query}", text="Logs")]
    extra: dict[str, str] = {"fingerprint": alert["fingerprint"], "level": level}
    if alert.get("trace_id"):
        links.append(
            AlertLink(
                url=f"{settings.public_url}/logs/trace/{alert['trace_id']}", text="Trace logs"
            )
        )
        extra["trace_id"] = alert["trace_id"]
    if alert["kind"] == "critical":
        name, severity = "LogCritical", AlertSeverity.CRITICAL
        summary = f"{service} logged {level}: {alert['message'][:200]}"
    else:
        name, severity = "LogErrorBurst", AlertSeverity.ERROR
        window = settings.error_burst_window_ms // 60000
        summary = f"{service} logged {alert['count']} errors in {window} min"
    return AlertEvent(
        name=name,
        severity=severity,
        labels={"service": service[:1024], "fingerprint": alert["fingerprint"]},
        annotations=AlertAnnotations(
            summary=summary[:1024], description=alert["message"][:4000], links=links, **extra
        ),
        source="logs",
        starts_at=format_rfc3339(alert["ts"] / 1000),
    )
