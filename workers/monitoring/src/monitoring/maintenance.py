"""Maintenance windows: planned time during which a check's failures raise no alert and do not
count against its uptime.

Two shapes, both in UTC:
- one-off: `{"start": "2026-01-10T02:00:00Z", "end": "2026-01-10T03:00:00Z"}`;
- weekly: `{"days": ["sun"], "at": "02:00", "duration": 3600}` (every listed weekday, at that
  time of day, for `duration` seconds; no `days` means every day).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from monitoring.intervals import Interval, normalise
from obs_schema.timespec import parse_instant

DAY_MS = 86_400_000
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Window:
    """One window; either `start_ms`/`end_ms` (one-off) or `days`/`at_ms`/`duration_ms`."""

    start_ms: int | None = None
    end_ms: int | None = None
    days: tuple[int, ...] = ()  # 0 = Monday, as datetime.weekday()
    at_ms: int = 0  # offset into the UTC day
    duration_ms: int = 0
    reason: str = ""

    @property
    def recurring(self) -> bool:
        return self.start_ms is None

    def occurrences(self, start: int, end: int) -> list[Interval]:
        """This window's time inside `[start, end)`."""
        if not self.recurring:
            assert self.end_ms is not None and self.start_ms is not None
            return normalise([(max(self.start_ms, start), min(self.end_ms, end))])
        found: list[Interval] = []
        # A window that starts late on one day may run into the next: begin a day early.
        first_day = start // DAY_MS - 1
        for day in range(first_day, end // DAY_MS + 1):
            if _weekday(day) in self.days:
                opens = day * DAY_MS + self.at_ms
                found.append((max(opens, start), min(opens + self.duration_ms, end)))
        return normalise(found)


def _weekday(day_number: int) -> int:
    return (day_number + 3) % 7  # 1970-01-01 was a Thursday


def parse(raw: Mapping[str, Any]) -> Window:
    """A window from its stored (already validated) form."""
    reason = str(raw.get("reason") or "")
    if raw.get("start") is not None:
        return Window(
            start_ms=round(parse_instant(raw["start"], 0) * 1000),
            end_ms=round(parse_instant(raw["end"], 0) * 1000),
            reason=reason,
        )
    days = raw.get("days") or list(WEEKDAYS)
    hours, minutes = (int(part) for part in str(raw.get("at", "00:00")).split(":"))
    return Window(
        days=tuple(sorted(WEEKDAYS.index(d) for d in days)),
        at_ms=(hours * 60 + minutes) * 60_000,
        duration_ms=round(float(raw["duration"]) * 1000),
        reason=reason,
    )


def parse_all(raw: Iterable[Mapping[str, Any]] | None) -> list[Window]:
    return [parse(item) for item in raw or []]


def covered(windows: Sequence[Window], start: int, end: int) -> list[Interval]:
    """All maintenance time inside `[start, end)`, merged."""
    return normalise(i for w in windows for i in w.occurrences(start, end))


def active(windows: Sequence[Window], at: int) -> Window | None:
    """The window covering instant `at`, if any."""
    for window in windows:
        if window.occurrences(at, at + 1):
            return window
    return None
