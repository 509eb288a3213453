"""Plain-language explanations of anomalies, with values in units people read."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from infra.detector import Verdict
from obs_schema.timespec import format_rfc3339

KIND_WORDS = {
    "spike": "a sudden spike",
    "dip": "a sudden drop",
    "level shift": "a sustained shift in level",
    "drift": "a slow drift away from normal",
    "seasonal break": "a break in its daily pattern: the value is usual for this series, "
    "but not at this time of day",
}


def amount(value: float, unit: str, counter: bool) -> str:
    """`250 ms`, `1.2 s`, `3.4 MiB`, `42 per 5 min`, `0.731`."""
    if not math.isfinite(value):
        return str(value)
    if counter:
        return f"{_number(value)} per 5 min"
    if unit == "s":
        return f"{_number(value * 1000)} ms" if abs(value) < 1 else f"{_number(value)} s"
    if unit == "By":
        for scale, name in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if abs(value) >= scale:
                return f"{_number(value / scale)} {name}"
        return f"{_number(value)} B"
    suffix = "" if unit in ("", "1") else f" {unit}"
    return f"{_number(value)}{suffix}"


def _number(value: float) -> str:
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def describe(metric: str, fn: str, labels: Mapping[str, str]) -> str:
    where = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
    what = f"{metric} ({'mean' if fn == 'mean' else fn})" if fn not in ("sum", "avg") else metric
    return f"{what} [{where}]" if where else what


def explain(
    subject: str, verdict: Verdict, at_ms: int, unit: str, counter: bool, since_ms: int
) -> str:
    def show(v: float) -> str:
        return amount(v, unit, counter)

    basis = (
        f"the same time of day over the last {verdict.days} days"
        if verdict.days
        else "the last 3 hours (not enough history for a daily pattern yet)"
    )
    minutes = max(5, (at_ms - since_ms) // 60_000 + 5)
    return (
        f"{subject} was {show(verdict.value)} at {format_rfc3339(at_ms / 1000)[11:16]} UTC, "
        f"{_comparison(verdict.value, verdict.expected, show)} (usual range "
        f"{show(verdict.lower)} to {show(verdict.upper)}, from {basis}). This looks like "
        f"{KIND_WORDS.get(verdict.kind, verdict.kind)}; anomalous for {minutes} min "
        f"(score {verdict.score:+.1f})."
    )


def _comparison(value: float, expected: float, show: Callable[[float], str]) -> str:
    if not expected:
        return f"against an expected {show(expected)}"
    ratio = value / expected
    if ratio >= 1.5 or 0 < ratio <= 0.67:
        how = f"{ratio:.1f}x" if ratio >= 1.5 else f"{1 / ratio:.1f}x"
    else:
        how = f"{abs(value - expected) / abs(expected):.0%}"
    direction = "above" if value > expected else "below"
    return f"{how} {direction} the expected {show(expected)}"
