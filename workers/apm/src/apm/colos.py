"""Requests, errors and p95 per edge location (Cloudflare colo), for the infra Worker's view.

Counted from server spans that name their colo (see `rows.colo`), as per-minute sketches under
the stats key `("colo", colo, "")`, so the window is answered like a summary: minute rows for
short windows, hour rows for long ones, p95 within the sketch's 1%.
"""

from __future__ import annotations

import math
from typing import Any, TypedDict

from apm import query
from apm.window import window

MAX_WINDOW_MS = 31 * 24 * 3_600_000  # minute sketches are kept 30 days


class ColoStats(TypedDict):
    colo: str
    requests: int
    errors: int
    p95_ms: float


class ColoStatsError(ValueError):
    """Arguments `colo_stats` cannot answer (not epoch milliseconds, or end before start)."""


def bounds(start_ms: Any, end_ms: Any) -> tuple[int, int]:
    """Validated `[start_ms, end_ms]` as ints (JavaScript callers send numbers as floats)."""
    values = []
    for name, value in (("start_ms", start_ms), ("end_ms", end_ms)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ColoStatsError(f"{name} must be epoch milliseconds, got {type(value).__name__}")
        if not math.isfinite(value) or value < 0:
            raise ColoStatsError(f"{name} must be finite epoch milliseconds >= 0")
        values.append(int(value))
    start, end = values
    if end < start:
        raise ColoStatsError("end_ms is before start_ms")
    if end - start > MAX_WINDOW_MS:
        raise ColoStatsError("the window is longer than the 30 days statistics are kept")
    return start, end


async def colo_stats(env: Any, start_ms: Any, end_ms: Any) -> list[ColoStats]:
    """Per colo seen in `[start_ms, end_ms]` (whole minutes), busiest first."""
    start, end = bounds(start_ms, end_ms)
    totals = await query.totals(env, "colo", window(start, end))
    found: list[ColoStats] = []
    for (colo, _), total in totals.items():
        p95 = total.sketch.quantile(0.95)
        if total.count and p95 is not None:
            found.append(
                {
                    "colo": colo,
                    "requests": total.count,
                    "errors": total.errors,
                    "p95_ms": round(p95, 3),
                }
            )
    found.sort(key=lambda row: (-row["requests"], row["colo"]))
    return found
