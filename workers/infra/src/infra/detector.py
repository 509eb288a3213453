"""Anomaly detection on one series: a seasonal, outlier-robust baseline and a verdict.

Values are at a fixed step (5 minutes in production), indexed by step number. For the step `i`:

- Seasonal baseline (at least `min_days` earlier days): for each of the last `days` days, the
  median of the values in a small window around the same time of day; the days' medians are
  brought to today's level with a Theil-Sen trend (robust to a bad day) when there are enough
  days, and their median is the expected value. The spread is the MAD of every sample in those
  windows around the expectation, so an incident yesterday at this hour moves nothing.
- Without enough history: the median and MAD of the last `recent` steps.
- The scale has floors (a share of the level; Poisson noise for counts) so flat series do not
  flag every wiggle.

A step is anomalous when its own robust z-score passes `point_threshold` (spikes and dips), or
when both it and the median z-score of the last `window` steps pass `window_threshold`, the
same way (level shifts, drifts, seasonal breaks: moderate but sustained). The expected band is
`expected +/- point_threshold * scale`. Everything here is pure: the bench runs the same code on
synthetic series.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import median

STEP_S = 300
PERIOD = 86_400 // STEP_S  # steps per day


@dataclass(frozen=True)
class Config:
    # Tuned on bench/infra's synthetic corpus (seed 7) and checked on a held-out one (seed 11).
    point_threshold: float = 7.0
    window_threshold: float = 3.0
    window: int = 4
    days: int = 7
    halfwidth: int = 2  # steps either side of the same time of day
    min_days: int = 2
    trend_days: int = 4  # fewer days than this: no trend term
    recent: int = 36
    min_recent: int = 12
    rel_floor: float = 0.05
    period: int = PERIOD


@dataclass(frozen=True)
class Baseline:
    expected: float
    scale: float
    days: int  # 0 when the baseline is the recent window, not seasonal


@dataclass(frozen=True)
class Verdict:
    value: float
    expected: float
    lower: float
    upper: float
    score: float
    window_score: float | None
    anomalous: bool
    kind: str  # "spike", "dip", "level shift", "drift", "seasonal break", or "" when normal
    days: int


def baseline(
    history: Mapping[int, float], i: int, cfg: Config, counter: bool = False
) -> Baseline | None:
    days: list[tuple[int, float, list[float]]] = []
    for k in range(1, cfg.days + 1):
        centre = i - k * cfg.period
        samples = [
            history[j]
            for j in range(centre - cfg.halfwidth, centre + cfg.halfwidth + 1)
            if j in history
        ]
        if samples:
            days.append((k, median(samples), samples))
    if len(days) >= cfg.min_days:
        slope = (
            _theil_sen([(float(k), v) for k, v, _ in days]) if len(days) >= cfg.trend_days else 0
        )
        expected = median(v - slope * k for k, v, _ in days)
        spread = [s - slope * k for k, _, samples in days for s in samples]
        return Baseline(expected, _scale(spread, expected, cfg, counter), len(days))
    recent = [history[j] for j in range(i - cfg.recent, i) if j in history]
    if len(recent) < cfg.min_recent:
        return None
    expected = median(recent)
    return Baseline(expected, _scale(recent, expected, cfg, counter), 0)


def evaluate(
    history: Mapping[int, float],
    i: int,
    cfg: Config = Config(),  # noqa: B008 - frozen, shared default
    counter: bool = False,
    typical: tuple[float, float] | None = None,
) -> Verdict | None:
    """The verdict for step `i`; None without a value or a baseline. `typical` is the series'
    usual range over the week (it tells a seasonal break from an out-of-range value)."""
    value = history.get(i)
    base = baseline(history, i, cfg, counter)
    if value is None or base is None:
        return None
    score = (value - base.expected) / base.scale
    residuals = _residuals(history, i, cfg, counter)
    window_score = median(residuals) if len(residuals) > cfg.window // 2 else None
    # Sustained: the recent steps *and* this one are off the same way (so a recovered value
    # ends the anomaly at once instead of being carried by its past).
    sustained = (
        window_score is not None
        and abs(window_score) >= cfg.window_threshold
        and score * window_score > 0
        and abs(score) >= cfg.window_threshold
    )
    anomalous = abs(score) >= cfg.point_threshold or sustained
    kind = _kind(history, i, cfg, counter, score, sustained, typical, base) if anomalous else ""
    lower = base.expected - cfg.point_threshold * base.scale
    if counter:
        lower = max(0.0, lower)
    upper = base.expected + cfg.point_threshold * base.scale
    return Verdict(
        value, base.expected, lower, upper, score, window_score, anomalous, kind, base.days
    )


def _residuals(history: Mapping[int, float], i: int, cfg: Config, counter: bool) -> list[float]:
    out = []
    for j in range(i - cfg.window + 1, i + 1):
        if j in history and (base := baseline(history, j, cfg, counter)) is not None:
            out.append((history[j] - base.expected) / base.scale)
    return out


def _kind(
    history: Mapping[int, float],
    i: int,
    cfg: Config,
    counter: bool,
    score: float,
    sustained: bool,
    typical: tuple[float, float] | None,
    base: Baseline,
) -> str:
    value = history[i]
    if base.days and typical is not None and typical[0] <= value <= typical[1]:
        return "seasonal break"
    if not sustained:
        return "spike" if score > 0 else "dip"
    trail = [
        (history[j] - b.expected) / b.scale
        for j in range(i - 4 * cfg.window, i + 1)
        if j in history and (b := baseline(history, j, cfg, counter)) is not None
    ]
    if len(trail) >= 3:
        total = abs(trail[-1] - trail[0])
        largest = max(abs(b - a) for a, b in pairwise(trail))
        if total > 0 and largest < 0.4 * total:
            return "drift"
    return "level shift"


def _scale(samples: Sequence[float], expected: float, cfg: Config, counter: bool) -> float:
    mad = median(abs(s - expected) for s in samples) * 1.4826 if samples else 0.0
    floor = cfg.rel_floor * abs(expected)
    if counter:
        floor = max(floor, math.sqrt(max(abs(expected), 1.0)))
    return max(mad, floor, 1e-9)


def _theil_sen(points: Sequence[tuple[float, float]]) -> float:
    """Median pairwise slope of (days back, value): negative when the series grows."""
    slopes = [
        (y2 - y1) / (x2 - x1)
        for a, (x1, y1) in enumerate(points)
        for x2, y2 in points[a + 1 :]
        if x2 != x1
    ]
    return median(slopes) if slopes else 0.0
