"""This Worker's own series on its /metrics page, refreshed from the summary each minute."""

from __future__ import annotations

from typing import Any

from obs_schema.metrics import Gauge, Registry

STATUSES = ("up", "degraded", "down", "pending", "paused")


class Gauges:
    def __init__(self, registry: Registry) -> None:
        self.checks = Gauge(
            "monitoring_checks", "Checks by current status.", ["status"], registry=registry
        )
        self.incidents = Gauge(
            "monitoring_open_incidents", "Incidents not yet resolved.", registry=registry
        )
        self.uptime = Gauge(
            "monitoring_uptime_24h_ratio", "Uptime of all checks over 24 h.", registry=registry
        )

    def update(self, summary: dict[str, Any]) -> None:
        own = summary.get("monitoring") or {}
        by_status = own.get("by_status") or {}
        for status in STATUSES:
            self.checks.labels(status=status).set(float(by_status.get(status, 0)))
        self.incidents.set(float(own.get("open_incidents") or 0))
        if own.get("uptime_24h") is not None:
            self.uptime.set(float(own["uptime_24h"]) / 100)
