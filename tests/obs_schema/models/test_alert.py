"""AlertEvent: intake of the alerting Worker, with Alertmanager-compatible fingerprints."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from obs_schema.models import AlertEvent, AlertSeverity, AlertStatus, fingerprint
from obs_schema.models.alert import labelset_fingerprint


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        # prometheus/common model/signature_test.go TestMetricToFingerprint, as %016x.
        ({}, f"{14695981039346656037:016x}"),
        (
            {"name": "garland, briggs", "fear": "love is not enough"},
            f"{5799056148416392346:016x}",
        ),
    ],
)
def test_label_set_fingerprints_match_prometheus(labels: dict[str, str], expected: str) -> None:
    assert labelset_fingerprint(labels) == expected


def test_the_alert_fingerprint_is_the_label_set_with_alertname() -> None:
    labels = {"service": "api", "route": "/pitches"}
    assert fingerprint("HighErrorRate", labels) == labelset_fingerprint(
        {**labels, "alertname": "HighErrorRate"}
    )
    assert fingerprint("HighErrorRate", labels) == fingerprint(
        "HighErrorRate", dict(reversed(labels.items()))
    )
    assert fingerprint("HighErrorRate", labels) != fingerprint("HighErrorRate", {"service": "api"})
    assert fingerprint("A", {}) != fingerprint("B", {})
    assert len(fingerprint("Ünïcode 🚨", {"ключ": "значение"})) == 16


def test_a_minimal_event_gets_defaults_and_a_computed_fingerprint() -> None:
    event = AlertEvent.model_validate({"name": "DiskFull", "labels": {"host": "db-1"}})
    no_annotations: dict[str, Any] = {
        "summary": "",
        "description": "",
        "runbook_url": None,
        "links": [],
    }
    assert event.model_dump(mode="json") == {
        "name": "DiskFull",
        "severity": "warning",
        "labels": {"host": "db-1"},
        "annotations": no_annotations,
        "source": "api",
        "status": "firing",
        "fingerprint": fingerprint("DiskFull", {"host": "db-1"}),
        "starts_at": None,
        "ends_at": None,
    }


def test_a_full_event_keeps_what_it_was_given() -> None:
    event = AlertEvent.model_validate(
        {
            "name": "HighErrorRate",
            "severity": "CRIT",
            "labels": {"service": "api", "alertname": "HighErrorRate"},
            "annotations": {
                "summary": "5xx above 5%",
                "description": "Since 10:00 UTC — 🔥",
                "runbook_url": "https://runbooks.example.com/errors",
                "links": [
                    "https://obs.example.com/apm?service=api",
                    {"url": "https://obs.example.com/logs", "text": "Logs"},
                ],
                "dashboard": "api-overview",
            },
            "source": "apm",
            "status": "resolved",
            "fingerprint": "custom-key:1",
            "starts_at": "2026-11-27T10:00:00Z",
            "ends_at": 1795774500000,
        }
    )
    assert (event.severity, event.status, event.fingerprint) == (
        AlertSeverity.CRITICAL,
        AlertStatus.RESOLVED,
        "custom-key:1",
    )
    assert [link.model_dump() for link in event.annotations.links] == [
        {"url": "https://obs.example.com/apm?service=api", "text": ""},
        {"url": "https://obs.example.com/logs", "text": "Logs"},
    ]
    assert event.annotations.model_dump()["dashboard"] == "api-overview"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("critical", "critical"), ("ERROR", "error"), ("warn", "warning"), ("Info", "info")],
)
def test_severities_are_normalised(given: str, expected: str) -> None:
    assert AlertEvent.model_validate({"name": "a", "severity": given}).severity == expected


def test_severities_order_by_loudness() -> None:
    ranks = [severity.rank for severity in AlertSeverity]
    assert [s.value for s in sorted(AlertSeverity, key=lambda s: s.rank)] == [
        "info",
        "warning",
        "error",
        "critical",
    ]
    assert ranks == sorted(ranks)


INVALID: list[tuple[dict[str, Any], str]] = [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "a", "severity": "page"}, "severity"),
    ({"name": "a", "status": "open"}, "status"),
    ({"name": "a", "labels": {"alertname": "b"}}, "differs from name"),
    ({"name": "a", "labels": {f"l{i}": "v" for i in range(65)}}, "labels"),
    ({"name": "a", "fingerprint": ""}, "fingerprint"),
    ({"name": "a", "fingerprint": "has space"}, "fingerprint"),
    ({"name": "a", "annotations": {"runbook_url": "javascript:alert(1)"}}, "runbook_url"),
    ({"name": "a", "annotations": {"links": ["not a url"]}}, "links"),
    ({"name": "a", "annotations": {"links": ["https://x.io"] * 17}}, "links"),
    ({"name": "a", "annotations": {"summary": "s" * 1025}}, "summary"),
    ({"name": "a", "annotations": {"extra": 5}}, "extra"),
    ({"name": "a", "annotations": {f"a{i}": "v" for i in range(33)}}, "extra annotations"),
    ({"name": "a", "annotations": {"note": "n" * 4097}}, "too long"),
    ({"name": "a", "starts_at": "2026-11-27T10:00:00Z", "ends_at": 1}, "before starts_at"),
]


@pytest.mark.parametrize(("event", "complaint"), INVALID)
def test_invalid_events_say_why(event: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AlertEvent.model_validate(event)
    assert complaint in str(caught.value)
