"""Silences: parsing with Alertmanager's rules, states over time, matching all matchers."""

from __future__ import annotations

from typing import Any

import pytest

from alerting import silences
from alerting.problems import Invalid

NOW = 1_772_442_000_000
BODY: dict[str, Any] = {
    "matchers": [
        {"name": "service", "value": "api|web", "isRegex": True},
        {"name": "env", "value": "staging", "isEqual": False},
    ],
    "startsAt": "2026-03-02T09:00:00Z",
    "endsAt": "2026-03-02T11:00:00Z",
    "createdBy": "alice",
    "comment": "deploy",
}


def test_a_silence_is_pending_active_then_expired_and_mutes_only_full_matches() -> None:
    silence = silences.parse(BODY, "s1", NOW - 60_000)
    assert silence.state(NOW - 1) == "pending"
    assert silence.state(NOW) == "active"
    assert silence.state(NOW + 7_200_000) == "expired"
    assert silence.mutes({"service": "web", "env": "prod"}, NOW) is True
    assert silence.mutes({"service": "web", "env": "staging"}, NOW) is False
    assert silence.mutes({"service": "db", "env": "prod"}, NOW) is False
    assert silence.mutes({"service": "web", "env": "prod"}, NOW - 1) is False
    expired = silence.expired_at(NOW + 60_000)
    assert (expired.state(NOW + 60_000), expired.ends_ms) == ("expired", NOW + 60_000)


def test_relative_times_and_durations_are_accepted() -> None:
    silence = silences.parse(
        {**BODY, "startsAt": "now", "endsAt": None, "duration": "90m"}, "s2", NOW
    )
    assert (silence.starts_ms, silence.ends_ms) == (NOW, NOW + 5_400_000)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"matchers": []}, "matchers"),
        ({"matchers": [{"name": "a", "value": ".*", "isRegex": True}]}, "matchers"),
        ({"endsAt": "2026-03-02T08:00:00Z"}, "endsAt"),
        ({"startsAt": "2026-03-01T00:00:00Z", "endsAt": "2026-03-01T01:00:00Z"}, "endsAt"),
        ({"createdBy": ""}, "createdBy"),
        ({"comment": None}, "comment"),
        ({"startsAt": "tomorrow"}, "startsAt"),
    ],
)
def test_invalid_silences_are_refused_with_the_field_named(
    change: dict[str, Any], where: str
) -> None:
    with pytest.raises(Invalid) as caught:
        silences.parse({**BODY, **change}, "s3", NOW)
    assert where in [d["loc"][0] for d in caught.value.details]
