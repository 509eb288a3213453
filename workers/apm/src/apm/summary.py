"""Latency summaries from merged sketches: requests, rate, errors, percentiles, Apdex (pure)."""

from __future__ import annotations

from typing import Any

from apm.statstore import Total, merge_into

PERCENTILES = (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99))


def describe(total: Total, minutes: int, apdex_t_ms: float | None = None) -> dict[str, Any]:
    """The numbers of one key (or a merge of keys) over `minutes`."""
    out: dict[str, Any] = {
        "requests": total.count,
        "throughput_per_min": round(total.count / minutes, 3) if minutes else 0.0,
        "errors": total.errors,
        "error_rate": round(total.errors / total.count, 6) if total.count else 0.0,
    }
    values = total.sketch.quantiles([q for _, q in PERCENTILES])
    for (name, _), value in zip(PERCENTILES, values, strict=True):
        out[name] = None if value is None else round(value, 3)
    out["avg_ms"] = round(total.sketch.sum / total.count, 3) if total.count else None
    out["total_ms"] = round(total.sketch.sum, 3)
    if apdex_t_ms is not None:
        out["apdex"] = apdex(total, apdex_t_ms)
    return out


def apdex(total: Total, threshold_ms: float) -> float | None:
    """Apdex_T = (satisfied + tolerating / 2) / total, from the sketch (latency only)."""
    if not total.count:
        return None
    satisfied = total.sketch.rank(threshold_ms)
    tolerating = total.sketch.rank(4 * threshold_ms) - satisfied
    return round((satisfied + tolerating / 2) / total.count, 4)


def merged(totals: list[Total]) -> Total:
    """A new total of `totals` (unknown extremes stay unknown, see `merge_into`)."""
    out: dict[int, Total] = {}
    for total in totals:
        merge_into(out, 0, total)
    return out.get(0) or Total()


def value_of(metric: str, total: Total, minutes: int, apdex_t_ms: float) -> float | None:
    """One chart/threshold metric: p50|p95|p99|rate|errors|error_rate|apdex|count."""
    if metric in ("p50", "p95", "p99"):
        quantile = total.sketch.quantile(int(metric[1:]) / 100)
        return None if quantile is None else round(quantile, 3)
    if metric == "rate":
        return round(total.count / minutes, 3) if minutes else 0.0
    if metric == "errors":
        return float(total.errors)
    if metric == "count":
        return float(total.count)
    if metric == "error_rate":
        return round(total.errors / total.count, 6) if total.count else None
    if metric == "apdex":
        return apdex(total, apdex_t_ms)
    raise ValueError(f"unknown metric {metric!r}")


METRICS = ("p50", "p95", "p99", "rate", "errors", "error_rate", "apdex", "count")
