"""Uptime from a check's history: exact, time-weighted, maintenance excluded.

A check is *monitored* from its creation until now, minus maintenance windows; it is *down*
during its incidents (first failed attempt to first success). Uptime over a window is
`(monitored - down) / monitored`. Both are sums of millisecond intervals, so a scripted history
gives exact figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitoring import intervals
from monitoring.intervals import Interval
from monitoring.maintenance import DAY_MS, Window, covered
from obs_schema.timespec import format_rfc3339

# Standard windows reported when a caller names none (label -> milliseconds).
STANDARD_WINDOWS = {"24h": DAY_MS, "7d": 7 * DAY_MS, "30d": 30 * DAY_MS, "90d": 90 * DAY_MS}
PCT_DIGITS = 4


@dataclass(frozen=True)
class Incident:
    started_ms: int
    ended_ms: int | None  # None while still open

    def until(self, now: int) -> Interval:
        return (self.started_ms, now if self.ended_ms is None else self.ended_ms)


@dataclass(frozen=True)
class Availability:
    start_ms: int
    end_ms: int
    monitored_ms: int
    downtime_ms: int
    maintenance_ms: int
    incidents: int

    @property
    def uptime_pct(self) -> float | None:
        if self.monitored_ms <= 0:
            return None
        return round(100 * (self.monitored_ms - self.downtime_ms) / self.monitored_ms, PCT_DIGITS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": format_rfc3339(self.start_ms / 1000),
            "end": format_rfc3339(self.end_ms / 1000),
            "uptime_pct": self.uptime_pct,
            "monitored_s": self.monitored_ms / 1000,
            "downtime_s": self.downtime_ms / 1000,
            "maintenance_s": self.maintenance_ms / 1000,
            "incidents": self.incidents,
        }


@dataclass(frozen=True)
class History:
    """What uptime is computed from: one check's life so far."""

    created_ms: int
    incidents: Sequence[Incident]
    maintenance: Sequence[Window] = ()

    def availability(self, start: int, end: int, now: int) -> Availability:
        """Uptime over `[start, end)`, counting only time since creation and before `now`."""
        span_start, span_end = max(start, self.created_ms), min(end, now)
        if span_end <= span_start:
            return Availability(start, end, 0, 0, 0, 0)
        held = covered(self.maintenance, span_start, span_end)
        monitored = intervals.subtract([(span_start, span_end)], held)
        down = intervals.intersect([i.until(now) for i in self.incidents], monitored)
        touching = sum(
            1 for i in self.incidents if intervals.clip([i.until(now)], span_start, span_end)
        )
        return Availability(
            start,
            end,
            intervals.total(monitored),
            intervals.total(down),
            intervals.total(held),
            touching,
        )

    def trailing(self, window_ms: int, now: int) -> Availability:
        return self.availability(now - window_ms, now, now)

    def daily(self, days: int, now: int) -> list[Availability]:
        """One entry per UTC day, oldest first, ending with today (so far)."""
        today = now // DAY_MS * DAY_MS
        starts = [today - n * DAY_MS for n in range(days - 1, -1, -1)]
        return [self.availability(s, s + DAY_MS, now) for s in starts]


def combined(parts: Sequence[Availability]) -> float | None:
    """Uptime of several checks together: total up time over total monitored time."""
    monitored = sum(p.monitored_ms for p in parts)
    if monitored <= 0:
        return None
    down = sum(p.downtime_ms for p in parts)
    return round(100 * (monitored - down) / monitored, PCT_DIGITS)
