"""The logs Worker builds its AlertEvents as plain JSON: exactly what the model would dump."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from logs.alerts import event
from logs.rows import LEVEL_NAMES
from logs.settings import Settings
from obs_schema.models.alert import AlertAnnotations, AlertEvent, AlertLink, AlertSeverity
from obs_schema.timespec import format_rfc3339

T = 1_795_773_600_123
SETTINGS = Settings(public_url="https://obs.example.com", error_burst_window_ms=10 * 60_000)


def modelled(alert: dict[str, Any], settings: Settings) -> AlertEvent:
    """The same alert built with the shared pydantic models, field by field."""
    service, level = alert["service"], LEVEL_NAMES[alert["level"]]
    since = format_rfc3339((alert["ts"] - settings.error_burst_window_ms) / 1000)
    query = urlencode({"service": service, "level": "error", "since": since})
    links = [AlertLink(url=f"{settings.public_url}/logs/query?{query}", text="Logs")]
    extra = {"fingerprint": alert["fingerprint"], "level": level}
    if alert.get("trace_id"):
        url = f"{settings.public_url}/logs/trace/{alert['trace_id']}"
        links.append(AlertLink(url=url, text="Trace logs"))
        extra["trace_id"] = alert["trace_id"]
    if alert["kind"] == "critical":
        name, severity = "LogCritical", AlertSeverity.CRITICAL
        summary = f"{service} logged {level}: {alert['message'][:200]}"
    else:
        name, severity = "LogErrorBurst", AlertSeverity.ERROR
        minutes = settings.error_burst_window_ms // 60000
        summary = f"{service} logged {alert['count']} errors in {minutes} min"
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


ALERTS = [
    {
        "kind": "critical",
        "service": "billing",
        "fingerprint": "0123456789abcdef",
        "level": 7,
        "count": 1,
        "message": "ledger corrupted for account 42",
        "trace_id": "ab" * 16,
        "ts": T,
    },
    {
        "kind": "burst",
        "service": "api gateway/eu & üs",  # needs quoting in the query link
        "fingerprint": "fedcba9876543210",
        "level": 5,
        "count": 240,
        "message": "x" * 5000,  # longer than a description may be
        "trace_id": None,
        "ts": T + 59_999,
    },
    {
        "kind": "critical",
        "service": "web",
        "fingerprint": "00000000000000ff",
        "level": 6,
        "count": 3,
        "message": "y" * 300,  # longer than a summary quotes
        "trace_id": "",
        "ts": 0,
    },
]


@pytest.mark.parametrize("alert", ALERTS, ids=["critical", "burst", "critical-no-trace"])
def test_an_event_is_the_models_json_dump(alert: dict[str, Any]) -> None:
    built = event(alert, SETTINGS)
    expected = modelled(alert, SETTINGS)
    assert built == expected.model_dump(mode="json")
    dumped = expected.model_dump(mode="json")
    assert list(built) == list(dumped)  # same order on the wire
    assert list(built["annotations"]) == list(dumped["annotations"])
    assert AlertEvent.model_validate(built) == expected
