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
    opened = [int(i) for i in result["opened_incidents"]]
    if opened:
        host.defer(capture_impact(env, opened, "at_open"))
    return {"accepted": result["accepted"], "rejected": rejected}


async def capture_impact(env: Any, incident_ids: list[int], moment: str) -> dict[str, Any]:
    """The logs and APM numbers for these incidents' services, asked once for all of them."""
    hub = Hub(env)
    services: dict[str, list[str]] = await hub.call("incident_services", incident_ids=incident_ids)
    snapshots, _ = await signals.gather(env, only=("logs", "apm"))
    numbers = {key: signals.impact(snapshots, names) for key, names in services.items()}
    await hub.call("set_impacts", key=moment, impacts=numbers)
    return numbers
