"""Automated response: incidents that crossed a line become blocks and alerts.

A block goes to the ledger (audited, undoable) and its KV projection before this returns, so
the very next check from that source is refused. The alert goes to the alerting Worker over
its service binding after the response (waitUntil); failing to deliver it never fails the
check that triggered it.
"""

from __future__ import annotations

import logging
from typing import Any

from obs_schema import alertsink, host
from obs_schema.models.alert import AlertEvent
from obs_schema.timespec import format_rfc3339
from security import edge, shards
from security.policy import Policy
from security.telemetry import Telemetry

log = logging.getLogger("obs.security")
ALERT_NAME = "SecurityIncident"


async def respond(
    env: Any, incidents: list[dict[str, Any]], policy: Policy, telemetry: Telemetry, now_ms: int
) -> list[dict[str, Any]]:
    """Act on incident updates; return the blocks created."""
    blocks, alerts = [], []
    for incident in incidents:
        blocked = None
        if incident.get("should_block") and policy.response.auto_block:
            blocked = await block_source(env, incident, policy, telemetry, now_ms)
            blocks.append(blocked)
            telemetry.incidents.labels(action="block").inc()
        if incident.get("should_alert") or blocked is not None:  # a block updates the alert
            alerts.append(_alert(incident, blocked))
            telemetry.incidents.labels(action="alert").inc()
    if alerts:
        host.defer(_deliver(env, alerts, telemetry))
    return blocks


async def block_source(
    env: Any, incident: dict[str, Any], policy: Policy, telemetry: Telemetry, now_ms: int
) -> dict[str, Any]:
    types = ", ".join(f"{k}x{v}" for k, v in sorted(incident["types"].items()))
    entry = {
        "target": incident["ip"],
        "kind": "block",
        "source": "auto",
        "actor": "auto",
        "ttl_s": policy.response.block_ttl_s,
        "incident": incident["id"],
        "reason": f"incident {incident['id']} scored {incident['score']:g} "
        f"(block at {policy.response.block_score:g}): {types}",
    }
    result = await shards.ledger(env).add(entry, now_ms)
    await edge.project_block(env, result["block"], now_ms)
    telemetry.blocks_created.labels(source="auto").inc()
    return dict(result["block"])


def _alert(incident: dict[str, Any], blocked: dict[str, Any] | None) -> AlertEvent:
    types = ", ".join(sorted(incident["types"]))
    action = (
        f"blocked until {format_rfc3339(blocked['expires_ms'] / 1000)}"
        if blocked
        else ("not blocked yet")
    )
    return AlertEvent(
        name=ALERT_NAME,
        severity="critical" if blocked else "warning",
        labels={"source_ip": incident["ip"], "incident": incident["id"]},
        annotations={
            "summary": f"Security incident from {incident['ip']}: {types}",
            "description": (
                f"Score {incident['score']:g} from {incident['events']} events ({types}); "
                f"{action}. See GET /security/incidents/{incident['id']}."
            ),
        },
        source="security",
        starts_at=format_rfc3339(incident["opened_ms"] / 1000),
    )


async def _deliver(env: Any, alerts: list[AlertEvent], telemetry: Telemetry) -> None:
    if await alertsink.send_alerts(env, alerts):
        telemetry.alerts.labels(result="delivered").inc(len(alerts))
        return
    telemetry.alerts.labels(result="failed").inc(len(alerts))
    log.warning("security alerts not delivered: %s", alertsink.stats.last_error)
