"""Alert events in: validated with the shared `AlertEvent` model, normalised for the hub.

One bad event never costs the good ones of its batch: each is validated on its own and a
rejection names its index and the problem (never the rejected value, which may hold a secret).
Normalised events always carry `alertname` and `severity` as labels, so routes, inhibition
rules and silences can match on them exactly as Alertmanager users expect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from obs_schema.models.alert import AlertEvent

MAX_BATCH = 1000


def millis(moment: datetime | None) -> int | None:
    return None if moment is None else round(moment.timestamp() * 1000)


def normalize(
    event: AlertEvent, *, expires_ms: int | None = None, generator_url: str = ""
) -> dict[str, Any]:
    labels = {**event.labels, "alertname": event.name}
    labels.setdefault("severity", event.severity.value)
    annotations = event.annotations.model_dump(mode="json")
    return {
        "fingerprint": event.fingerprint,
        "name": event.name,
        "severity": event.severity.value,
        "labels": labels,
        "annotations": {k: v for k, v in annotations.items() if v not in (None, "", [])},
        "source": event.source,
        "status": event.status.value,
        "starts_ms": millis(event.starts_at),
        "ends_ms": millis(event.ends_at),
        "expires_ms": expires_ms,
        "generator_url": generator_url,
    }


def problem(error: ValidationError) -> str:
    """The first problem, located, without the input value."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "event"
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


def validate(items: Sequence[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(normalised events, rejections as {index, error})."""
    accepted: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            rejected.append({"index": index, "error": "an event must be a JSON object"})
            continue
        try:
            accepted.append(normalize(AlertEvent.model_validate(item)))
        except ValidationError as error:
            rejected.append({"index": index, "error": problem(error)})
    return accepted, rejected
