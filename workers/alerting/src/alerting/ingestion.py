"""Intake shared by every way in (HTTP, Alertmanager API, RPC, rules): hub, metrics, impact.

When an event opens an incident, the logs and APM Workers' numbers are captured after the
response (`waitUntil`), so the incident report can show the impact as it was when it began.
"""

from __future__ import annotations

from typing import Any

from alerting import signals
from alerting.client import Hub
from alerting.telemetry import AlertingMetrics
from obs_schema import host


async def ingest(
    env: Any,
    accepted: list[dict[str, Any]],
    rejected: list[dict[str, Any]],
    via: str,
    metrics: AlertingMetrics | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {"accepted": 0, "opened_incidents": []}
    if accepted:
        result = await Hub(env).call("ingest", events=accepted)
    if metrics is not None:
        metrics.counted(via, int(result["accepted"]), len(rejected))
        if "stats" in result:
            metrics.observe(result["stats"])
    for incident_id in result["opened_incidents"]:
        host.defer(capture_impact(env, int(incident_id), "at_open"))
    return {"accepted": result["accepted"], "rejected": rejected}


async def capture_impact(env: Any, incident_id: int, moment: str) -> dict[str, Any]:
    hub = Hub(env)
    incident = await hub.call("get_incident", incident_id=incident_id)
    snapshots, _ = await signals.gather(env, only=("logs", "apm"))
    numbers = signals.impact(snapshots, list(incident.get("services") or []))
    await hub.call("set_impact", incident_id=incident_id, key=moment, data=numbers)
    return numbers
