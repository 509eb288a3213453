"""State changes as AlertEvents for the alerting Worker, carrying the error, the latency and the
last good time; a resolution shares its alert's fingerprint (same name and labels)."""

from __future__ import annotations

from typing import Any

from monitoring.state import Change, ChangeKind
from obs_schema.models.alert import AlertEvent
from obs_schema.timespec import format_rfc3339

SOURCE = "monitoring"


# Outage causes (an incident's `cause`) and the alert each raises.
OUTAGE_ALERTS = {
    "down": "CheckDown",
    "heartbeat_missed": "HeartbeatMissed",
    "job_failed": "JobFailed",
}


def alert_name(change: Change, cause: str) -> str:
    if change.kind in (ChangeKind.DEGRADED, ChangeKind.DEGRADED_RESOLVED):
        return "CheckDegraded"
    return OUTAGE_ALERTS.get(cause, "CheckDown")


def duration_text(ms: int) -> str:
    """`2h 5m 3s`, `45s`: how long an outage lasted, for people."""
    seconds = max(0, ms // 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    return " ".join(parts) or "0s"


def _when(ms: int | None) -> str | None:
    return None if ms is None else format_rfc3339(ms / 1000)


def _summary(name: str, change: Change) -> str:
    began = change.incident_start_ms or change.at_ms
    lasted = duration_text(change.at_ms - began)
    return {
        ChangeKind.DOWN: f"{name} is down",
        ChangeKind.RECOVERED: f"{name} is back up after {lasted}",
        ChangeKind.DEGRADED: f"{name} is degraded",
        ChangeKind.DEGRADED_RESOLVED: f"{name} is no longer degraded after {lasted}",
    }[change.kind]


def _annotations(spec: dict[str, Any], change: Change) -> dict[str, Any]:
    facts = {
        "error": change.error,
        "latency_ms": None if change.latency_ms is None else f"{change.latency_ms:g}",
        "last_good": _when(change.last_good_ms),
        "since": _when(change.incident_start_ms),
        "check_id": spec["id"],
    }
    lines = [f"{k.replace('_', ' ')}: {v}" for k, v in facts.items() if v is not None]
    return {
        "summary": _summary(str(spec["name"]), change),
        "description": "\n".join(lines),
        **{k: str(v) for k, v in facts.items() if v is not None},
    }


def build(spec: dict[str, Any], change: Change, cause: str = "down") -> dict[str, Any]:
    """The AlertEvent for `change` of the check `spec` (an outage of `cause`), as the JSON
    dict RPC carries."""
    degraded = change.kind in (ChangeKind.DEGRADED, ChangeKind.DEGRADED_RESOLVED)
    firing = change.kind in (ChangeKind.DOWN, ChangeKind.DEGRADED)
    labels = {**(spec.get("labels") or {}), "check": spec["id"], "check_type": spec["type"]}
    event = AlertEvent(
        name=alert_name(change, cause),
        severity="warning" if degraded else spec.get("severity", "critical"),
        labels=labels,
        annotations=_annotations(spec, change),
        source=SOURCE,
        status="firing" if firing else "resolved",
        starts_at=_when(change.incident_start_ms or change.at_ms),
        ends_at=None if firing else _when(change.at_ms),
    )
    return event.model_dump(mode="json")
