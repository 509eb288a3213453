"""What the infra Worker tells the alerting Worker: anomalies and capacity warnings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from infra.detector import Config
from obs_schema.models.alert import AlertEvent

ANOMALY_ALERT = "InfraAnomaly"
CAPACITY_ALERT = "InfraCapacity"
SOURCE = "infra"


def anomaly_event(row: Mapping[str, Any], resolved: bool = False) -> AlertEvent:
    labels = {**json.loads(row["labels"]), "metric": row["metric"], "signal": row["fn"]}
    severe = abs(float(row["peak"])) >= 2 * Config().point_threshold
    summary = str(row["explanation"]).split(". ")[0][:1000]
    return AlertEvent.model_validate(
        {
            "name": ANOMALY_ALERT,
            "severity": "error" if severe else "warning",
            "labels": labels,
            "annotations": {"summary": summary, "description": str(row["explanation"])},
            "source": SOURCE,
            "status": "resolved" if resolved else "firing",
            "starts_at": _at(row["started_ms"]),
            "ends_at": _at(row["ended_ms"]) if resolved and row.get("ended_ms") else None,
        }
    )


def capacity_event(warning: Mapping[str, Any], resolved: bool = False) -> AlertEvent:
    return AlertEvent.model_validate(
        {
            "name": CAPACITY_ALERT,
            "severity": "error" if warning.get("level") == "critical" else "warning",
            "labels": {"resource": str(warning["resource"]), "plan": str(warning.get("plan", ""))},
            "annotations": {"summary": str(warning["message"])[:1000]},
            "source": SOURCE,
            "status": "resolved" if resolved else "firing",
        }
    )


def _at(ms: Any) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)
