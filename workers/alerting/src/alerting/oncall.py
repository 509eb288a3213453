"""On-call schedules: a rotation of people with a hand-off instant, and overrides on top.

The rotation hands off every `shift` (e.g. `7d`) at the instant `start` fixes (its time of day
and weekday), cycling through `users` in order; it extends backwards as well, so any instant has
someone on call. An override puts another person on call for a window; when overrides overlap,
the one listed last wins. `who(at)` answers who is on call at an instant and until when;
`upcoming(at)` lists the next hand-offs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from alerting.problems import (
    Problems,
    duration_ms,
    format_duration,
    listing,
    mapping,
    text,
    unknown_keys,
)
from obs_schema.timespec import TimeSpecError, format_rfc3339, parse_instant

MAX_USERS = 100
MAX_OVERRIDES = 200
_MIN_SHIFT_MS = 60_000


@dataclass(frozen=True)
class Override:
    user: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Shift:
    user: str
    start_ms: int
    end_ms: int
    override: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "from": format_rfc3339(self.start_ms / 1000),
            "until": format_rfc3339(self.end_ms / 1000),
            "override": self.override,
        }


@dataclass(frozen=True)
class Schedule:
    name: str
    users: tuple[str, ...]
    start_ms: int
    shift_ms: int
    overrides: tuple[Override, ...] = ()

    def _rotation(self, at_ms: int) -> tuple[str, int, int]:
        index = (at_ms - self.start_ms) // self.shift_ms
        begin = self.start_ms + index * self.shift_ms
        return self.users[index % len(self.users)], begin, begin + self.shift_ms

    def _user_at(self, at_ms: int) -> tuple[str, bool]:
        for override in reversed(self.overrides):
            if override.start_ms <= at_ms < override.end_ms:
                return override.user, True
        return self._rotation(at_ms)[0], False

    def _next_change(self, at_ms: int) -> int:
        """The first instant after `at_ms` at which the answer may change."""
        candidates = [self._rotation(at_ms)[2]]
        for override in self.overrides:
            candidates += [t for t in (override.start_ms, override.end_ms) if t > at_ms]
        return min(candidates)

    def who(self, at_ms: int) -> Shift:
        user, overridden = self._user_at(at_ms)
        start, cursor = self._shift_start(at_ms, user, overridden), at_ms
        for _ in range(4 * MAX_OVERRIDES + 2):  # bounded: each step passes a breakpoint
            cursor = self._next_change(cursor)
            if self._user_at(cursor) != (user, overridden):
                break
        return Shift(user, start, cursor, overridden)

    def _shift_start(self, at_ms: int, user: str, overridden: bool) -> int:
        if overridden:
            covering = (o for o in self.overrides if o.start_ms <= at_ms < o.end_ms)
            return max(o.start_ms for o in covering if o.user == user)
        begin = self._rotation(at_ms)[1]
        # An override that ended inside this rotation shift hands back at its end.
        ended = [o.end_ms for o in self.overrides if begin < o.end_ms <= at_ms]
        return max([begin, *ended])

    def upcoming(self, at_ms: int, count: int = 3) -> list[Shift]:
        shifts, cursor = [], self.who(at_ms).end_ms
        for _ in range(count):
            shift = self.who(cursor)
            shifts.append(shift)
            cursor = shift.end_ms
        return shifts

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rotation": {
                "users": list(self.users),
                "start": format_rfc3339(self.start_ms / 1000),
                "shift": format_duration(self.shift_ms),
            },
            "overrides": [
                {
                    "user": o.user,
                    "start": format_rfc3339(o.start_ms / 1000),
                    "end": format_rfc3339(o.end_ms / 1000),
                }
                for o in self.overrides
            ],
        }


def parse_schedules(data: object, people: set[str], problems: Problems) -> tuple[Schedule, ...]:
    found: list[Schedule] = []
    with problems.at("schedules"):
        items = problems.check(lambda: listing(data or [], "schedules")) or []
        for index, item in enumerate(items):
            with problems.at(index):
                schedule = _schedule(item, people, problems)
                if schedule is not None:
                    found.append(schedule)
    return tuple(found)


def _instant(value: object, what: str) -> int:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError(f"{what} must be an RFC 3339 time")
    try:
        return round(parse_instant(value, 0.0) * 1000)
    except TimeSpecError as error:
        raise ValueError(str(error)) from None


def _schedule(item: object, people: set[str], problems: Problems) -> Schedule | None:
    data = problems.check(lambda: mapping(item, "a schedule"))
    if data is None:
        return None
    unknown_keys(data, {"name", "rotation", "overrides"}, problems)
    name = problems.check(lambda: text(data.get("name"), "name"), "name")
    rotation = _rotation(data.get("rotation"), people, problems)
    overrides = _overrides(data.get("overrides", []), people, problems)
    if name is None or rotation is None or overrides is None:
        return None
    users, start, shift = rotation
    return Schedule(name, users, start, shift, overrides)


def _rotation(
    raw: object, people: set[str], problems: Problems
) -> tuple[tuple[str, ...], int, int] | None:
    with problems.at("rotation"):
        data = problems.check(lambda: mapping(raw, "rotation"))
        if data is None:
            return None
        unknown_keys(data, {"users", "start", "shift"}, problems)
        users = problems.check(lambda: listing(data.get("users"), "users"), "users") or []
        if not users or len(users) > MAX_USERS:
            problems.add(f"a rotation needs 1 to {MAX_USERS} users", "users")
        for index, user in enumerate(users):
            if user not in people:
                problems.add("is not a person listed under `people`", "users", index)
        start = problems.check(lambda: _instant(data.get("start"), "start"), "start")
        shift = problems.check(lambda: duration_ms(data.get("shift"), "shift"), "shift")
        if shift is not None and shift < _MIN_SHIFT_MS:
            problems.add("a shift lasts at least one minute", "shift")
            return None
        if start is None or shift is None or not users or any(u not in people for u in users):
            return None
        return tuple(users), start, shift


def _overrides(raw: object, people: set[str], problems: Problems) -> tuple[Override, ...] | None:
    items = problems.check(lambda: listing(raw, "overrides"), "overrides")
    if items is None:
        return None
    if len(items) > MAX_OVERRIDES:
        problems.add(f"at most {MAX_OVERRIDES} overrides", "overrides")
        return None
    found: list[Override] = []
    for index, item in enumerate(items):
        with problems.at("overrides", index):
            override = _override(item, people, problems)
            if override is None:
                return None
            found.append(override)
    return tuple(found)


def _override(item: object, people: set[str], problems: Problems) -> Override | None:
    data: Mapping[str, Any] | None = problems.check(lambda: mapping(item, "an override"))
    if data is None:
        return None
    unknown_keys(data, {"user", "start", "end"}, problems)
    user = data.get("user")
    if user not in people:
        problems.add("is not a person listed under `people`", "user")
    start = problems.check(lambda: _instant(data.get("start"), "start"), "start")
    end = problems.check(lambda: _instant(data.get("end"), "end"), "end")
    if start is not None and end is not None and end <= start:
        problems.add("must be after start", "end")
        return None
    if start is None or end is None or not isinstance(user, str) or user not in people:
        return None
    return Override(user, start, end)
