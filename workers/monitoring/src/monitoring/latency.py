"""Latency percentiles of a check over a window: exact, by the nearest-rank method.

A monitor keeps every result, so there is no need for a sketch: at one result a minute a
90-day window is 130k numbers, sorted in milliseconds. Nearest rank (the smallest value with at
least p% of values at or below it) always returns a latency that was actually measured.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

PERCENTILES = (50, 95, 99)


def nearest_rank(ordered: list[float], pct: float) -> float | None:
    """The `pct` percentile of an ascending list, or None when it is empty."""
    if not ordered:
        return None
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summarise(latencies: Iterable[float]) -> dict[str, Any]:
    """Count, min, mean, max and p50/p95/p99 of `latencies` (milliseconds)."""
    ordered = sorted(latencies)
    summary: dict[str, Any] = {
        "count": len(ordered),
        "min_ms": ordered[0] if ordered else None,
        "mean_ms": round(sum(ordered) / len(ordered), 3) if ordered else None,
        "max_ms": ordered[-1] if ordered else None,
    }
    for pct in PERCENTILES:
        summary[f"p{pct}_ms"] = nearest_rank(ordered, pct)
    return summary
