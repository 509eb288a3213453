"""Alertmanager API v2 alerts in, as Alertmanager reads them."""

from __future__ import annotations

import pytest

from alerting.amapi import to_event, to_events
from obs_schema.models.alert import labelset_fingerprint

NOW = 1_772_442_000_000  # 2026-03-02T09:00:00Z


def test_a_postable_alert_keeps_its_labels_and_alertmanager_fingerprint() -> None:
    labels = {"alertname": "InstanceDown", "instance": "web-1", "severity": "critical"}
    item = {
        "labels": labels,
        "annotations": {"summary": "down"},
        "startsAt": "2026-03-02T08:59:00Z",
        "generatorURL": "http://p/g",
    }
    assert to_event(item, NOW) == {
        "fingerprint": labelset_fingerprint(labels),
        "name": "InstanceDown",
        "severity": "critical",
        "labels": labels,
        "annotations": {"summary": "down"},
        "source": "alertmanager-api",
        "status": "firing",
        "starts_ms": NOW - 60_000,
        "ends_ms": None,
        "expires_ms": None,
        "generator_url": "http://p/g",
        "expires_default": True,
    }


@pytest.mark.parametrize(
    ("ends_at", "status", "expires", "default"),
    [
        ("0001-01-01T00:00:00Z", "firing", None, True),
        ("2026-03-02T09:04:00Z", "firing", NOW + 240_000, False),
        ("2026-03-02T08:58:00Z", "resolved", None, False),
    ],
)
def test_ends_at_decides_firing_expiry_or_resolution(
    ends_at: str, status: str, expires: int | None, default: bool
) -> None:
    event = to_event(
        {"labels": {"alertname": "A"}, "endsAt": ends_at, "startsAt": "2026-03-02T08:50:00Z"}, NOW
    )
    assert (event["status"], event["expires_ms"], event["expires_default"]) == (
        status,
        expires,
        default,
    )


def test_bad_alerts_are_rejected_one_by_one() -> None:
    accepted, rejected = to_events(
        [
            {"labels": {"alertname": "A"}},
            {"labels": {"alertname": "B", "n": 1}},
            {"labels": {"alertname": "C"}, "startsAt": "soon"},
        ],
        NOW,
    )
    assert [e["name"] for e in accepted] == ["A"]
    assert [(r["index"], r["error"].split(":")[0]) for r in rejected] == [
        (1, "labels"),
        (2, "startsAt"),
    ]
