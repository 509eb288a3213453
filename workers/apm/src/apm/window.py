"""Query windows in whole minutes and the stored rows that answer them (pure arithmetic).

Latency statistics are kept per key (`route`, `edge`, `db`, `http`) and minute, and rolled up
into hour rows holding the *running total since the start of the UTC day*. Any run of whole
hours inside one day is then the difference of two hour rows, so a 24 h window costs at most
three rows per key instead of 1,440 minutes or 24 hours. Short windows (up to `MINUTE_WINDOW`)
are answered minute by minute; longer ones are widened to whole hours.
"""

from __future__ import annotations

from dataclasses import dataclass

MINUTE_NS = 60_000_000_000
MINUTE_MS = 60_000
HOUR_MINUTES = 60
DAY_HOURS = 24
MINUTE_WINDOW = 180  # minutes: longer windows are answered at hour resolution
MAX_POINTS = 1440


@dataclass(frozen=True)
class Window:
    """Minutes `[start, end)` since the epoch, and the resolution they are read at."""

    start: int
    end: int
    hourly: bool

    @property
    def minutes(self) -> int:
        return self.end - self.start


def window(since_ms: float, until_ms: float) -> Window:
    """Whole minutes covering `[since, until]` (the minute holding `until` included, so "now"
    counts); widened to whole hours when long."""
    start = int(since_ms // MINUTE_MS)
    end = max(start, int(until_ms // MINUTE_MS) + 1)
    if end - start <= MINUTE_WINDOW + 1:  # "the last 3 h" includes the current minute
        return Window(start, end, hourly=False)
    return Window(start - start % HOUR_MINUTES, end + (-end) % HOUR_MINUTES, hourly=True)


@dataclass(frozen=True)
class Span:
    """Hours `[first, last]` of one UTC day: total = row(last) - row(first - 1)."""

    day_start: int  # first hour of the day
    first: int
    last: int

    @property
    def before(self) -> int | None:
        """The hour row to subtract, or None when the run starts the day."""
        return self.first - 1 if self.first > self.day_start else None


def day_spans(first_hour: int, end_hour: int) -> list[Span]:
    """Hours `[first_hour, end_hour)` cut at UTC day boundaries."""
    spans = []
    hour = first_hour
    while hour < end_hour:
        day_start = hour - hour % DAY_HOURS
        last = min(end_hour, day_start + DAY_HOURS) - 1
        spans.append(Span(day_start, hour, last))
        hour = last + 1
    return spans


def boundary_hours(first_hour: int, end_hour: int) -> list[int]:
    """Every hour row the window needs (the `last` and `before` of each day span)."""
    hours = set()
    for span in day_spans(first_hour, end_hour):
        hours.add(span.last)
        if span.before is not None:
            hours.add(span.before)
    return sorted(hours)


def step_minutes(step_s: float, minutes: int) -> int:
    """A chart step in whole minutes: at least 1, at most MAX_POINTS buckets."""
    step = max(1, round(step_s / 60))
    floor = -(-minutes // MAX_POINTS)
    return max(step, floor)
