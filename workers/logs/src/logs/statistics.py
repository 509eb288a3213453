"""`GET /logs/stats`: per-minute counts from the shards, folded into the dashboard's buckets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from logs.rows import LEVEL_NAMES
from obs_schema.timespec import format_rfc3339, parse_duration, parse_window

MAX_BUCKETS = 1440
MAX_TRACE_LOGS = 5000
_STEPS_S = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400)


@dataclass(frozen=True)
class Window:
    start_ms: int  # aligned to the step
    end_ms: int
    step_ms: int

    @classmethod
    def parse(cls, since: str | None, until: str | None, step: str | None, now_ms: int) -> Window:
        start, end = parse_window(since, until, now_ms / 1000, default_span=86400)
        span = max(end - start, 60.0)
        if step:
            step_s = parse_duration(step)
            if step_s < 60 or step_s % 60:
                raise ValueError("step: must be a whole number of minutes, at least 1m")
        else:
            step_s = next((s for s in _STEPS_S if span / s <= 60), _STEPS_S[-1])
        if span / step_s > MAX_BUCKETS:
            raise ValueError(f"step: the window would have more than {MAX_BUCKETS} buckets")
        step_ms = int(step_s * 1000)
        start_ms = int(start * 1000) // step_ms * step_ms
        return cls(start_ms, int(end * 1000), step_ms)


def aggregate(
    rows: Sequence[Sequence[Any]], window: Window, services: Sequence[str] = ()
) -> dict[str, Any]:
    """Fold `[minute, level, service, count]` rows into buckets of `window.step_ms`."""
    wanted = set(services)
    buckets: dict[int, dict[str, Any]] = {}
    by_level: dict[str, int] = defaultdict(int)
    by_service: dict[str, int] = defaultdict(int)
    for minute, level, service, count in rows:
        at = minute * 60000
        if not window.start_ms <= at <= window.end_ms or (wanted and service not in wanted):
            continue
        start = at - (at - window.start_ms) % window.step_ms
        bucket = buckets.setdefault(start, _empty())
        name = LEVEL_NAMES[level]
        bucket["total"] += count
        bucket["by_level"][name] = bucket["by_level"].get(name, 0) + count
        bucket["by_service"][service] = bucket["by_service"].get(service, 0) + count
        by_level[name] += count
        by_service[service] += count
    return {
        "since": format_rfc3339(window.start_ms / 1000),
        "until": format_rfc3339(window.end_ms / 1000),
        "step": f"{window.step_ms // 60000}m",
        "total": sum(by_level.values()),
        "by_level": dict(by_level),
        "by_service": dict(by_service),
        "buckets": [
            {"start": format_rfc3339(start / 1000), **buckets.get(start, _empty())}
            for start in range(window.start_ms, window.end_ms + 1, window.step_ms)
        ],
    }


def _empty() -> dict[str, Any]:
    return {"total": 0, "by_level": {}, "by_service": {}}
