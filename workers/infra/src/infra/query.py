"""Range queries: pick series by name and labels, align samples to steps, apply a function.

Pure functions over what a shard read; the shard does the reading. Functions per kind:

- counters (stored as per-minute increases): `sum` (increase per step, the default), `rate`
  (per second), `max`, `min`, `avg` (of per-minute increases). Empty steps are 0.
- gauges: `avg` (default), `max`, `min`, `last`, `sum`. Empty steps are null.
- histogram families: `p50`, `p90`, `p95` (default), `p99`, `p999`, `mean`, `count`, `rate`;
  quantiles interpolate inside buckets as Prometheus' `histogram_quantile` does.

`by` merges the selected series that share those label values (sums; bucket-wise for
histograms), like PromQL's `sum by (...)`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from infra.rollup import Stats
from infra.samples import grid_lower
from infra.series import Series

COUNTER_FNS = ("sum", "rate", "max", "min", "avg")
GAUGE_FNS = ("avg", "max", "min", "last", "sum")
QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p999": 0.999}
HISTOGRAM_FNS = (*QUANTILES, "mean", "count", "rate")
DEFAULT_FN = {"counter": "sum", "gauge": "avg", "histogram": "p95"}
Matcher = tuple[str, str, str]  # label, "=" | "!=", value ("a|b" means any of them)


class QueryError(ValueError):
    """The query asks for something that cannot be answered (a 422)."""


@dataclass(frozen=True)
class Grid:
    """Step starts `first, first + step, ...` (epoch minutes or hours), `count` of them."""

    first: int
    step: int
    count: int

    def slot(self, t: int) -> int | None:
        index = (t - self.first) // self.step
        return index if 0 <= index < self.count else None


def functions_for(kind: str) -> tuple[str, ...]:
    return {"counter": COUNTER_FNS, "gauge": GAUGE_FNS}.get(kind, HISTOGRAM_FNS)


def matches(labels: Mapping[str, str], matchers: Sequence[Matcher]) -> bool:
    for name, op, value in matchers:
        hit = labels.get(name, "") in value.split("|")
        if hit != (op == "="):
            return False
    return True


def group_key(labels: Mapping[str, str], by: Sequence[str] | None) -> tuple[tuple[str, str], ...]:
    if by is None:
        return tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
    return tuple((k, labels.get(k, "")) for k in by)


# --- scalar series ------------------------------------------------------------------------------
def scalar_minutes(
    values: Mapping[int, float], grid: Grid, fn: str, counter: bool
) -> list[float | None]:
    """One pass, accumulating per step (a 7-day query folds ~10,000 minutes into 2,016 steps)."""
    count, step, first = grid.count, grid.step, grid.first
    sums, ns = [0.0] * count, [0] * count
    highs: list[float | None] = [None] * count
    lows: list[float | None] = [None] * count
    last: list[tuple[int, float] | None] = [None] * count
    for minute, value in values.items():
        index = (minute - first) // step
        if not 0 <= index < count:
            continue
        sums[index] += value
        ns[index] += 1
        high, low, latest = highs[index], lows[index], last[index]
        if high is None or value > high:
            highs[index] = value
        if low is None or value < low:
            lows[index] = value
        if latest is None or minute > latest[0]:
            last[index] = (minute, value)
    return [
        _reduce(sums[i], ns[i], highs[i], lows[i], last[i], fn, counter, step * 60)
        for i in range(count)
    ]


def scalar_fives(
    values: Mapping[int, tuple[float, float]], grid: Grid, fn: str, counter: bool
) -> list[float | None]:
    """`scalar_minutes` from 5-minute (sum, count) slots, for `sum`, `rate` and `avg`."""
    count, step, first = grid.count, grid.step, grid.first
    sums, ns = [0.0] * count, [0] * count
    for five, (total, n) in values.items():
        index = (five * 5 - first) // step
        if 0 <= index < count:
            sums[index] += total
            ns[index] += int(n)
    return [_reduce(sums[i], ns[i], None, None, None, fn, counter, step * 60) for i in range(count)]


def merge_fives(
    series_values: Iterable[Mapping[int, tuple[float, float]]],
) -> dict[int, tuple[float, float]]:
    merged: dict[int, tuple[float, float]] = {}
    for values in series_values:
        for five, (total, n) in values.items():
            old = merged.get(five)
            merged[five] = (total, n) if old is None else (old[0] + total, max(old[1], n))
    return merged


def _reduce(
    total: float, n: int, high: float | None, low: float | None,
    latest: tuple[int, float] | None, fn: str, counter: bool, seconds: int,
) -> float | None:  # fmt: skip
    if not n:
        return 0.0 if counter and fn in ("sum", "rate") else None
    if fn == "sum":
        return total
    if fn == "rate":
        return total / seconds
    if fn == "max":
        return high
    if fn == "min":
        return low
    if fn == "last":
        return latest[1] if latest else None
    return total / n


def scalar_hours(
    stats: Mapping[int, Stats], grid: Grid, fn: str, counter: bool
) -> list[float | None]:
    buckets: list[list[tuple[int, Stats]]] = [[] for _ in range(grid.count)]
    for hour, item in stats.items():
        if (index := grid.slot(hour)) is not None:
            buckets[index].append((hour, item))
    return [_reduce_hours(b, fn, counter, grid.step * 3600) for b in buckets]


def _reduce_hours(
    bucket: list[tuple[int, Stats]], fn: str, counter: bool, seconds: int
) -> float | None:
    if not bucket:
        return 0.0 if counter and fn in ("sum", "rate") else None
    count = sum(s[0] for _, s in bucket)
    total = math.fsum(s[1] for _, s in bucket)
    if fn == "sum":
        return total
    if fn == "rate":
        return total / seconds
    if fn == "max":
        return max(s[3] for _, s in bucket)
    if fn == "min":
        return min(s[2] for _, s in bucket)
    if fn == "last":
        latest = max(bucket)[1]
        return latest[1] / latest[0]
    return total / count


def merge_minutes(series_values: Iterable[Mapping[int, float]]) -> dict[int, float]:
    merged: dict[int, float] = {}
    for values in series_values:
        for t, v in values.items():
            merged[t] = merged.get(t, 0.0) + v
    return merged


def merge_hours(series_stats: Iterable[Mapping[int, Stats]]) -> dict[int, Stats]:
    merged: dict[int, Stats] = {}
    for stats in series_stats:
        for t, s in stats.items():
            old = merged.get(t)
            merged[t] = s if old is None else (
                old[0] + s[0], old[1] + s[1], min(old[2], s[2]), max(old[3], s[3])
            )  # fmt: skip
    return merged


# --- histogram families -------------------------------------------------------------------------
def histogram_steps(
    members: Sequence[Series], totals: Mapping[int, Sequence[float]], fn: str, seconds: int
) -> list[float | None]:
    """One value per step from per-series step totals (already summed within each step)."""
    count = len(next(iter(totals.values()), []))
    out: list[float | None] = []
    for index in range(count):
        n = sum(totals[s.id][index] for s in members if s.role == "count")
        total = sum(totals[s.id][index] for s in members if s.role == "sum")
        if fn == "count":
            out.append(n)
        elif fn == "rate":
            out.append(n / seconds)
        elif n <= 0:
            out.append(None)
        elif fn == "mean":
            out.append(total / n)
        else:
            buckets = [
                (s.le, totals[s.id][index], grid_lower(s.le) if s.role == "gbucket" else None)
                for s in members
                if s.le is not None and s.role in ("bucket", "gbucket")
            ]
            out.append(quantile(QUANTILES[fn], buckets))
    return out


def quantile(q: float, buckets: Sequence[tuple[float, float, float | None]]) -> float | None:
    """`histogram_quantile` over non-cumulative `(upper bound, count, lower edge)` buckets.

    A lower edge of None means "the next smaller upper bound" (explicit buckets, whose empty
    buckets are stored too), or 0 for the first; grid buckets carry their own lower edge.
    """
    ordered = sorted(buckets, key=lambda b: b[0])
    total = sum(c for _, c, _ in ordered)
    if total <= 0:
        return None
    rank, seen, previous = q * total, 0.0, None
    finite = [le for le, c, _ in ordered if math.isfinite(le) and c > 0]
    for le, c, edge in ordered:
        if c > 0 and seen + c >= rank:
            if not math.isfinite(le):
                return finite[-1] if finite else None
            low = edge if edge is not None else previous
            low = low if low is not None else min(0.0, le)
            if low >= le:
                return le
            return low + (le - low) * (rank - seen) / c
        seen += c
        previous = le
    return finite[-1] if finite else None


def step_totals(values: Mapping[int, float], grid: Grid) -> list[float]:
    totals = [0.0] * grid.count
    for t, v in values.items():
        if (index := grid.slot(t)) is not None:
            totals[index] += v
    return totals
