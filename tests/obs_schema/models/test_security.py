"""SecurityEvent: detections and the action taken, keyed by a canonical client address."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from obs_schema import host
from obs_schema.models import SecurityAction, SecurityEvent

BASE: dict[str, Any] = {"type": "sqli", "ip": "203.0.113.7", "action": "block"}


@pytest.fixture
def frozen_clock() -> Iterator[None]:
    host.install(clock=lambda: 1795773600.0)
    yield
    host.reset()


def test_an_event_is_stamped_with_the_host_clock(frozen_clock: None) -> None:
    event = SecurityEvent.model_validate(
        {
            **BASE,
            "user_id": "user-17",
            "route": "/api/pitches/{id}",
            "score": 15,
            "evidence": {"location": "query.q", "rule": "942100", "excerpt": "' OR 1=1--"},
        }
    )
    assert event.model_dump(mode="json") == {
        "type": "sqli",
        "ip": "203.0.113.7",
        "user_id": "user-17",
        "route": "/api/pitches/{id}",
        "score": 15.0,
        "action": "block",
        "evidence": {"location": "query.q", "rule": "942100", "excerpt": "' OR 1=1--"},
        "time": "2026-11-27T10:00:00.000Z",
    }


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 198.51.100.1 ", "198.51.100.1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),  # IPv4 seen through an IPv6 socket
        ("::1", "::1"),
        ("fe80::1%eth0", "fe80::1%eth0"),
    ],
)
def test_addresses_are_canonical(given: str, expected: str) -> None:
    assert SecurityEvent.model_validate({**BASE, "ip": given}).ip == expected


@pytest.mark.parametrize("action", ["allow", "challenge", "rate_limited", "block"])
def test_every_action_is_accepted(action: str) -> None:
    assert SecurityEvent.model_validate({**BASE, "action": action}).action == action


def test_actions_order_from_mildest() -> None:
    assert [a.rank for a in SecurityAction] == [0, 1, 2, 3]
    assert SecurityAction.BLOCK.rank > SecurityAction.RATE_LIMITED.rank


INVALID: list[tuple[str, dict[str, Any]]] = [
    ("ip", {"ip": "999.1.1.1"}),
    ("ip", {"ip": "example.com"}),
    ("ip", {"ip": ""}),
    ("ip", {"ip": "1" * 100}),
    ("ip", {"ip": 3405803783}),
    ("type", {"type": "SQLi"}),
    ("type", {"type": "sql injection"}),
    ("type", {"type": ""}),
    ("action", {"action": "deny"}),
    ("action", {"action": None}),
    ("score", {"score": -1}),
    ("score", {"score": float("nan")}),
    ("score", {"score": 1e9}),
    ("route", {"route": "/a\r\nSet-Cookie: x"}),
    ("route", {"route": "/" * 1025}),
    ("user_id", {"user_id": ""}),
    ("evidence", {"evidence": ["not", "an", "object"]}),
    ("time", {"time": "whenever"}),
]


@pytest.mark.parametrize(("field", "change"), INVALID)
def test_invalid_events_name_the_field(field: str, change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        SecurityEvent.model_validate({**BASE, **change})
    assert field in {str(error["loc"][0]) for error in caught.value.errors()}
