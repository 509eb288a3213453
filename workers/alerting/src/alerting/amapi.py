"""Alertmanager API v2 compatibility: `POST /api/v2/alerts` in, `GET /api/v2/alerts` out.

Prometheus (and vmalert, Grafana) post `postableAlerts`: labels identify the alert (the
fingerprint is Alertmanager's, over the whole label set), `alertname` names it, a missing
`startsAt` means now, a missing or zero `endsAt` means now + `resolve_timeout`, an `endsAt`
in the past means resolved. Clients re-send firing alerts periodically; an alert nobody
re-sends resolves when its `endsAt` passes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from alerting.intake import normalize, problem
from alerting.message import ZERO_TIME
from obs_schema.models.alert import AlertEvent
from obs_schema.timespec import TimeSpecError, parse_instant

SEVERITY_WORDS = {"critical", "error", "warning", "info", "warn", "err", "crit", "information"}
_ZERO_TIME_PREFIX = "0001-01-01"


def _instant(value: object, now_ms: int, what: str) -> int | None:
    if (
        value is None
        or value == ""
        or (isinstance(value, str) and value.startswith(_ZERO_TIME_PREFIX))
    ):
        return None
    if not isinstance(value, str):
        raise ValueError(f"{what} must be an RFC 3339 time")
    try:
        return round(parse_instant(value, now_ms / 1000) * 1000)
    except TimeSpecError as error:
        raise ValueError(f"{what}: {error}") from None


def to_event(item: Mapping[str, Any], now_ms: int) -> dict[str, Any]:
    labels = item.get("labels")
    if not isinstance(labels, Mapping) or not all(isinstance(v, str) for v in labels.values()):
        raise ValueError("labels: an object of string values is required")
    name = labels.get("alertname")
    if not name:
        raise ValueError("labels.alertname is required")
    annotations = item.get("annotations") or {}
    if not isinstance(annotations, Mapping):
        raise ValueError("annotations must be an object")
    starts = _instant(item.get("startsAt"), now_ms, "startsAt") or now_ms
    ends = _instant(item.get("endsAt"), now_ms, "endsAt")
    resolved = ends is not None and ends <= now_ms
    severity = str(labels.get("severity", "warning")).lower()
    event = AlertEvent.model_validate(
        {
            "name": name,
            "severity": severity if severity in SEVERITY_WORDS else "warning",
            "labels": dict(labels),
            "annotations": dict(annotations),
            "source": "alertmanager-api",
            "status": "resolved" if resolved else "firing",
            "starts_at": min(starts, ends) if resolved and ends is not None else starts,
            "ends_at": ends if resolved else None,
        }
    )
    generator = item.get("generatorURL")
    out = normalize(
        event,
        expires_ms=None if resolved else ends,
        generator_url=generator if isinstance(generator, str) else "",
    )
    # No endsAt: the hub applies `global.resolve_timeout` (it holds the configuration).
    out["expires_default"] = not resolved and ends is None
    return out


def to_events(
    items: Sequence[Any], now_ms: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    accepted: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, Mapping):
                raise ValueError("an alert must be a JSON object")
            accepted.append(to_event(item, now_ms))
        except ValidationError as error:
            rejected.append({"index": index, "error": problem(error)})
        except ValueError as error:
            rejected.append({"index": index, "error": str(error)})
    return accepted, rejected


def gettable(alert: Mapping[str, Any], receivers: list[str]) -> dict[str, Any]:
    """Our alert (API form) as Alertmanager's `gettableAlert`."""
    active = alert["status"] != "resolved"
    annotations = {k: _flat(v) for k, v in alert["annotations"].items()}
    state = (
        "suppressed" if alert["state"] == "suppressed" else "active" if active else "unprocessed"
    )
    return {
        "labels": alert["labels"],
        "annotations": annotations,
        "startsAt": alert["starts_at"],
        "endsAt": alert["ends_at"] or alert["expires_at"] or ZERO_TIME,
        "updatedAt": alert["updated_at"],
        "generatorURL": alert["generator_url"],
        "fingerprint": alert["fingerprint"],
        "receivers": [{"name": r} for r in receivers],
        "status": {
            "state": state,
            "silencedBy": alert["silenced_by"],
            "inhibitedBy": alert["inhibited_by"],
            "mutedBy": [],
        },
    }


def _flat(value: object) -> str:
    """Annotations are strings in Alertmanager: link lists become their URLs."""
    if isinstance(value, list):
        return " ".join(str(x.get("url", "")) if isinstance(x, Mapping) else str(x) for x in value)
    return str(value)
