"""Native events in: validated one by one, normalised with alertname and severity labels."""

from __future__ import annotations

from alerting.intake import validate
from obs_schema.models.alert import fingerprint


def test_events_are_normalised_for_the_hub() -> None:
    [event], rejected = validate(
        [
            {
                "name": "DiskFull",
                "severity": "warn",
                "labels": {"host": "db-1"},
                "annotations": {"summary": "95%"},
                "starts_at": "2026-03-02T09:00:00Z",
            }
        ]
    )
    assert rejected == []
    assert event == {
        "fingerprint": fingerprint("DiskFull", {"host": "db-1"}),
        "name": "DiskFull",
        "severity": "warning",
        "labels": {"host": "db-1", "alertname": "DiskFull", "severity": "warning"},
        "annotations": {"summary": "95%"},
        "source": "api",
        "status": "firing",
        "starts_ms": 1_772_442_000_000,
        "ends_ms": None,
        "expires_ms": None,
        "generator_url": "",
    }


def test_a_given_fingerprint_and_severity_label_are_kept() -> None:
    [event], _ = validate(
        [{"name": "X", "labels": {"severity": "page"}, "fingerprint": "uptime:api:https"}]
    )
    assert (event["fingerprint"], event["labels"]["severity"], event["severity"]) == (
        "uptime:api:https",
        "page",
        "warning",
    )


def test_rejections_name_the_field_without_the_value() -> None:
    _, rejected = validate(
        [{"name": "X", "labels": {"k": "v" * 2000}}, {"name": "Y", "status": "exploded"}]
    )
    assert [r["error"].split(":")[0] for r in rejected] == ["labels.k", "status"]
    assert "vvvv" not in str(rejected)
