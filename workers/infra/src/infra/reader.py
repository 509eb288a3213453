"""Answers range queries and series listings from one shard (runs inside the Durable Object).

Minute data answers windows that start within the last 7 days at steps under an hour; anything
older or coarser is answered from hourly rollups, with the step rounded up to whole hours.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from infra import query as q
from infra.series import Series
from infra.shard import MINUTE_RETENTION_DAYS, ShardCore

MAX_POINTS = 11_000  # per series, as Prometheus caps a range query
MAX_SERIES = 500


def run_query(core: ShardCore, spec: Mapping[str, Any], now_ms: int) -> dict[str, Any]:
    metric = str(spec["metric"])
    members, kind = select(core, metric, spec.get("matchers") or [])
    fn = str(spec.get("fn") or q.DEFAULT_FN[kind])
    if fn not in q.functions_for(kind):
        choices = ", ".join(q.functions_for(kind))
        raise q.QueryError(f"fn={fn} does not apply to a {kind}; use one of {choices}")
    grid, resolution = _grid(spec, now_ms)
    by = spec.get("by")
    groups: dict[tuple[tuple[str, str], ...], list[Series]] = {}
    for series in members:
        groups.setdefault(q.group_key(series.label_map, by), []).append(series)
    keys = sorted(groups)[: int(spec.get("limit") or MAX_SERIES)]
    wanted = [s for key in keys for s in groups[key]]
    unit = wanted[0].unit if wanted else ""
    values = _values(core, wanted, kind, fn, grid, resolution, keys, groups)
    scale = 60_000 if resolution == "minute" else 3_600_000
    return {
        "metric": metric,
        "kind": kind,
        "unit": unit,
        "fn": fn,
        "resolution": resolution,
        "step_s": grid.step * scale // 1000,
        "first_ms": grid.first * scale,
        "series": [{"labels": dict(key), "values": v} for key, v in zip(keys, values, strict=True)],
        "truncated": len(groups) > len(keys),
    }


def select(
    core: ShardCore, metric: str, matchers: Sequence[Sequence[str]]
) -> tuple[list[Series], str]:
    """The series a query reads, and the kind it is answered as."""
    checks = [(str(m[0]), str(m[1]), str(m[2])) for m in matchers]
    family = core.catalog.family(metric)
    if family and family[0].kind == "histogram":
        members = [s for s in family if q.matches(s.label_map, checks)]
        return members, "histogram"
    named = [s for s in family if s.name == metric]
    if not named and metric.endswith(("_count", "_sum", "_bucket")):
        named = [s for s in core.catalog.family(metric.rsplit("_", 1)[0]) if s.name == metric]
    if not named:
        raise q.QueryError(f"no series named {metric!r}")
    kind = "counter" if named[0].agg == "sum" else "gauge"
    return [s for s in named if q.matches(s.label_map, checks)], kind


def _grid(spec: Mapping[str, Any], now_ms: int) -> tuple[q.Grid, str]:
    start, end, step_s = int(spec["start_ms"]), int(spec["end_ms"]), int(spec["step_s"])
    minute_floor = now_ms - MINUTE_RETENTION_DAYS * 86_400_000
    if start >= minute_floor and (step_s < 3600 or spec.get("align") is False):
        unit, resolution = 60_000, "minute"
    else:
        unit, resolution = 3_600_000, "hour"
    step = max(1, math.ceil(step_s * 1000 / unit))
    # Charts align steps to the epoch (stable buckets across refreshes); a summary over "the
    # last N minutes" asks for `align: False` and gets steps that start at `start` itself.
    first = start // unit if spec.get("align") is False else start // unit // step * step
    count = (end // unit - first) // step + 1
    if count > MAX_POINTS:
        raise q.QueryError(
            f"{count} points per series exceed {MAX_POINTS}; use a larger step or shorter window"
        )
    return q.Grid(first, step, max(count, 0)), resolution


def _values(
    core: ShardCore,
    wanted: list[Series],
    kind: str,
    fn: str,
    grid: q.Grid,
    resolution: str,
    keys: list[tuple[tuple[str, str], ...]],
    groups: Mapping[tuple[tuple[str, str], ...], list[Series]],
) -> list[list[float | None]]:
    last = grid.first + grid.step * grid.count - 1
    counter = kind == "counter"
    if resolution == "minute" and _by_fives(grid, kind, fn, keys, groups):
        found = core.fives(wanted, grid.first, last)
        if found is not None:
            return _from_fives(found, wanted, kind, fn, grid, keys, groups)
    if resolution == "minute":
        minutes = core.minutes(wanted, grid.first, last)
        if kind == "histogram":
            totals = {s.id: q.step_totals(minutes[s.id], grid) for s in wanted}
            return [q.histogram_steps(groups[k], totals, fn, grid.step * 60) for k in keys]
        merged = [q.merge_minutes(minutes[s.id] for s in groups[k]) for k in keys]
        return [q.scalar_minutes(m, grid, fn, counter) for m in merged]
    hours = core.hours(wanted, grid.first, last)
    if kind == "histogram":
        totals = {
            s.id: q.step_totals({h: st[1] for h, st in hours[s.id].items()}, grid) for s in wanted
        }
        return [q.histogram_steps(groups[k], totals, fn, grid.step * 3600) for k in keys]
    merged_hours = [q.merge_hours(hours[s.id] for s in groups[k]) for k in keys]
    return [q.scalar_hours(m, grid, fn, counter) for m in merged_hours]


def _by_fives(
    grid: q.Grid, kind: str, fn: str, keys: list[tuple[tuple[str, str], ...]],
    groups: Mapping[tuple[tuple[str, str], ...], list[Series]],
) -> bool:  # fmt: skip
    """Can 5-minute sums answer this? Steps of whole 5-minute slots, and a function of sums:
    histograms (all from bucket, count and sum totals), counter and gauge sums and rates, and
    means of single series (a mean over merged series counts distinct minutes, which 5-minute
    counts cannot tell)."""
    if grid.step % 5 or grid.first % 5:
        return False
    if kind == "histogram" or fn in ("sum", "rate"):
        return True
    return fn == "avg" and all(len(groups[k]) == 1 for k in keys)


def _from_fives(
    found: Mapping[int, Mapping[int, tuple[float, float]]], wanted: list[Series], kind: str,
    fn: str, grid: q.Grid, keys: list[tuple[tuple[str, str], ...]],
    groups: Mapping[tuple[tuple[str, str], ...], list[Series]],
) -> list[list[float | None]]:  # fmt: skip
    if kind == "histogram":
        totals = {
            s.id: q.step_totals({five * 5: v[0] for five, v in found[s.id].items()}, grid)
            for s in wanted
        }
        return [q.histogram_steps(groups[k], totals, fn, grid.step * 60) for k in keys]
    merged = [q.merge_fives(found[s.id] for s in groups[k]) for k in keys]
    return [q.scalar_fives(m, grid, fn, kind == "counter") for m in merged]


def list_series(core: ShardCore, prefix: str, limit: int) -> list[dict[str, Any]]:
    """One entry per metric (a histogram family once), with its label names and series count."""
    out = []
    for family in sorted(core.catalog.families()):
        members = core.catalog.family(family)
        if not members or not family.startswith(prefix):
            continue
        out.append(
            {
                "metric": family,
                "kind": members[0].kind,
                "unit": members[0].unit,
                "labels": sorted({k for s in members for k in s.label_map if k != "le"}),
                "series": len({q.group_key(s.label_map, None) for s in members}),
                "last_seen_ms": max(s.last_ms for s in members),
            }
        )
        if len(out) >= limit:
            break
    return out
