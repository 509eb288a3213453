"""Time intervals, as Alertmanager's `time_intervals` and a route's mute/active intervals.

A named interval is a list of periods; a period matches an instant when every field it sets
matches (Alertmanager's docs/configuration.md `time_interval`):

- `times`: `[{start_time: "09:00", end_time: "17:00"}]`, start inclusive, end exclusive;
- `weekdays`: `["monday:friday", "sunday"]`;
- `days_of_month`: `["1:5", "-1"]` (negative days count back from the month's end);
- `months`: `["january:march", "12"]`; `years`: `["2026:2027"]`;
- `location`: an IANA time zone for all of the above (default UTC).

A route with `mute_time_intervals` sends nothing while any of them matches; one with
`active_time_intervals` sends only while one of them matches. Alerts still group meanwhile,
and notify at the first tick after the mute ends.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerting.problems import Problems, listing, mapping, text, unknown_keys

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = tuple(m.lower() for m in calendar.month_name[1:])
_CLOCK = re.compile(r"([01][0-9]|2[0-4]):([0-5][0-9])")
_PERIOD_FIELDS = {"times", "weekdays", "days_of_month", "months", "years", "location"}

Range = tuple[int, int]


@dataclass(frozen=True)
class Period:
    times: tuple[Range, ...] = ()  # minutes of the day, [start, end)
    weekdays: tuple[Range, ...] = ()  # 0 = Monday
    days_of_month: tuple[Range, ...] = ()  # may be negative
    months: tuple[Range, ...] = ()  # 1..12
    years: tuple[Range, ...] = ()
    location: tzinfo = field(default=UTC)

    def contains(self, at_ms: int) -> bool:
        moment = datetime.fromtimestamp(at_ms / 1000, tz=self.location)
        last_day = calendar.monthrange(moment.year, moment.month)[1]
        checks = (
            (self.times, moment.hour * 60 + moment.minute, False),
            (self.weekdays, moment.weekday(), True),
            (self.months, moment.month, True),
            (self.years, moment.year, True),
        )
        for ranges, value, inclusive in checks:
            if ranges and not _within(ranges, value, inclusive):
                return False
        if self.days_of_month:
            days = [(_day(a, last_day), _day(b, last_day)) for a, b in self.days_of_month]
            return _within(tuple(days), moment.day, True)
        return True


def _within(ranges: tuple[Range, ...], value: int, inclusive: bool) -> bool:
    return any(a <= value <= b if inclusive else a <= value < b for a, b in ranges)


def _day(day: int, last: int) -> int:
    return last + day + 1 if day < 0 else day


@dataclass(frozen=True)
class TimeInterval:
    name: str
    periods: tuple[Period, ...]

    def contains(self, at_ms: int) -> bool:
        return any(period.contains(at_ms) for period in self.periods)


def parse_intervals(data: object, problems: Problems) -> dict[str, TimeInterval]:
    found: dict[str, TimeInterval] = {}
    with problems.at("time_intervals"):
        items = problems.check(lambda: listing(data or [], "time_intervals")) or []
        for index, item in enumerate(items):
            with problems.at(index):
                interval = _interval(item, problems)
                if interval is not None:
                    found[interval.name] = interval
    return found


def _interval(item: object, problems: Problems) -> TimeInterval | None:
    data = problems.check(partial(mapping, item, "a time interval"))
    if data is None:
        return None
    unknown_keys(data, {"name", "time_intervals"}, problems)
    name = problems.check(partial(text, data.get("name"), "name"), "name")
    raw = problems.check(
        partial(listing, data.get("time_intervals"), "time_intervals"), "time_intervals"
    )
    periods = []
    for index, period in enumerate(raw or []):
        with problems.at("time_intervals", index):
            parsed = problems.check(partial(_period, period))
            if parsed is not None:
                periods.append(parsed)
    return TimeInterval(name, tuple(periods)) if name and raw is not None else None


def _period(raw: object) -> Period:
    data: Mapping[str, Any] = mapping(raw, "a period")
    unknown = set(data) - _PERIOD_FIELDS
    if unknown:
        raise ValueError(
            f"unknown field {sorted(unknown)[0]!r}; expected {', '.join(sorted(_PERIOD_FIELDS))}"
        )
    return Period(
        times=tuple(_times(t) for t in listing(data.get("times", []), "times")),
        weekdays=tuple(_ranges(data.get("weekdays", []), "weekdays", WEEKDAYS, 0)),
        days_of_month=tuple(_ranges(data.get("days_of_month", []), "days_of_month", (), 1)),
        months=tuple(_ranges(data.get("months", []), "months", MONTHS, 1)),
        years=tuple(_ranges(data.get("years", []), "years", (), 1)),
        location=_location(data.get("location", "UTC")),
    )


def _times(raw: object) -> Range:
    data = mapping(raw, "a time range")
    start, end = (_minutes(data.get(k), k) for k in ("start_time", "end_time"))
    if end <= start:
        raise ValueError("end_time must be after start_time")
    return start, end


def _minutes(value: object, what: str) -> int:
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if match is None or (match.group(1) == "24" and match.group(2) != "00"):
        raise ValueError(f"{what} must be HH:MM, 00:00 to 24:00")
    return int(match.group(1)) * 60 + int(match.group(2))


def _ranges(value: object, what: str, names: tuple[str, ...], base: int) -> list[Range]:
    out = []
    for item in listing(value, what):
        if not isinstance(item, str | int) or isinstance(item, bool):
            raise ValueError(f"{what} lists names, numbers or ranges such as a:b")
        parts = str(item).lower().split(":")
        if len(parts) > 2:
            raise ValueError(f"{what}: {item!r} is not a range")
        first, last = (_one(p, what, names, base) for p in (parts[0], parts[-1]))
        if what == "days_of_month" and (first < 0) != (last < 0):
            raise ValueError("days_of_month ranges keep one sign (1:5 or -3:-1)")
        if last < first:
            raise ValueError(f"{what}: {item!r} ends before it starts")
        out.append((first, last))
    return out


def _one(part: str, what: str, names: tuple[str, ...], base: int) -> int:
    if part in names:
        return names.index(part) + base
    if what == "weekdays":
        raise ValueError(f"weekdays: {part!r} is not a day name (monday ... sunday)")
    try:
        number = int(part)
    except ValueError:
        raise ValueError(f"{what}: {part!r} is not a known name or number") from None
    limits = {"days_of_month": (-31, 31), "months": (1, 12), "years": (1, 9999)}
    low, high = limits[what]
    if not low <= number <= high or (what == "days_of_month" and number == 0):
        raise ValueError(f"{what}: {number} is out of range")
    return number


def _location(value: object) -> tzinfo:
    if value in ("UTC", "utc", None):
        return UTC
    if not isinstance(value, str):
        raise ValueError("location must be an IANA time zone such as Europe/Berlin")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value[:64]!r}") from None
