"""On-call: a rotation with a hand-off instant, overrides on top, who is on call and next."""

from __future__ import annotations

import pytest

from alerting.oncall import Override, Schedule, parse_schedules
from alerting.problems import Invalid, Problems

DAY = 86_400_000
HANDOFF = 1_772_442_000_000  # Monday 2026-03-02 09:00 UTC
WEEKLY = Schedule("primary", ("alice", "bob", "carol"), HANDOFF, 7 * DAY)


@pytest.mark.parametrize(
    ("offset", "user"),
    [
        (0, "alice"),
        (7 * DAY - 1, "alice"),
        (7 * DAY, "bob"),
        (14 * DAY, "carol"),
        (21 * DAY, "alice"),
        (-1, "carol"),
    ],
)
def test_the_rotation_hands_off_at_its_instant_and_extends_backwards(
    offset: int, user: str
) -> None:
    assert WEEKLY.who(HANDOFF + offset).user == user


def test_who_and_until_when_and_the_next_shifts() -> None:
    shift = WEEKLY.who(HANDOFF + DAY)
    assert (shift.user, shift.start_ms, shift.end_ms, shift.override) == (
        "alice",
        HANDOFF,
        HANDOFF + 7 * DAY,
        False,
    )
    assert [(s.user, s.start_ms) for s in WEEKLY.upcoming(HANDOFF + DAY, 2)] == [
        ("bob", HANDOFF + 7 * DAY),
        ("carol", HANDOFF + 14 * DAY),
    ]


def test_an_override_takes_its_window_and_hands_back() -> None:
    schedule = Schedule(
        "primary",
        ("alice", "bob"),
        HANDOFF,
        7 * DAY,
        (Override("dave", HANDOFF + 2 * DAY, HANDOFF + 3 * DAY),),
    )
    during = schedule.who(HANDOFF + 2 * DAY + 1)
    assert (during.user, during.start_ms, during.end_ms, during.override) == (
        "dave", HANDOFF + 2 * DAY, HANDOFF + 3 * DAY, True,
    )  # fmt: skip
    before = schedule.who(HANDOFF)
    assert (before.user, before.end_ms) == ("alice", HANDOFF + 2 * DAY)
    after = schedule.who(HANDOFF + 3 * DAY)
    assert (after.user, after.start_ms, after.end_ms) == (
        "alice",
        HANDOFF + 3 * DAY,
        HANDOFF + 7 * DAY,
    )


def test_schedules_must_name_known_people_and_sane_shifts() -> None:
    problems = Problems()
    document = [
        {
            "name": "primary",
            "rotation": {
                "users": ["alice", "zed"],
                "start": "2026-03-02T09:00:00Z",
                "shift": "30s",
            },
            "overrides": [
                {"user": "alice", "start": "2026-03-03T00:00:00Z", "end": "2026-03-02T00:00:00Z"}
            ],
        }
    ]
    parse_schedules(document, {"alice", "bob"}, problems)
    with pytest.raises(Invalid) as caught:
        problems.raise_if_any()
    assert sorted(".".join(d["loc"]) for d in caught.value.details) == [
        "schedules.0.overrides.0.end",
        "schedules.0.rotation.shift",
        "schedules.0.rotation.users.1",
    ]
