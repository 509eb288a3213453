"""Synthetic metric series with labelled injected anomalies, for the anomaly benchmark.

Each series: a level, a daily pattern (two harmonics, peak at a random hour), a slight trend,
Gaussian noise with 1% of steps 2.5 times noisier (real telemetry has blips; they are *not*
labelled anomalies), at 5-minute steps over 10 days. One anomaly is injected in the last three
days, of one of four kinds, and labelled with the window in which a detector should raise it:

- spike: one or two steps far above (or below) normal; window: those steps plus 15 minutes.
- level shift: the level moves by 4-8 sigma for 3-8 hours; window: the shift.
- slow drift: a ramp to 6-9 sigma over 4-8 hours, then held for 2 hours; window: the ramp and hold.
- seasonal break: one day's pattern shifted by 8-12 hours; window: the steps where the broken
  pattern differs from the normal one by more than 3 sigma.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

STEP_S = 300
PERIOD = 288
DAYS = 10
EVAL_FROM = 7 * PERIOD  # detectors are scored on days 8-10 (7 days of history before)
KINDS = ("spike", "level shift", "slow drift", "seasonal break")


@dataclass
class Series:
    name: str
    kind: str
    values: list[float]
    windows: list[tuple[int, int]] = field(default_factory=list)  # inclusive step ranges
    sigma: float = 1.0


def _pattern(rng: random.Random, level: float) -> tuple[float, float, float, float]:
    return (level, rng.uniform(0.3, 0.6) * level, rng.uniform(0, 2 * math.pi), rng.uniform(0, 0.2))


def _normal(i: int, shape: tuple[float, float, float, float], trend: float) -> float:
    level, amp, phase, second = shape
    angle = 2 * math.pi * (i % PERIOD) / PERIOD + phase
    return level * (1 + trend * i / PERIOD) + amp * (math.sin(angle) + second * math.sin(2 * angle))


def make(seed: int, kind: str) -> Series:
    rng = random.Random(seed)
    level = rng.uniform(50, 500)
    shape = _pattern(rng, level)
    trend = rng.uniform(-0.01, 0.02)
    sigma = rng.uniform(0.03, 0.08) * level
    base = [_normal(i, shape, trend) for i in range(DAYS * PERIOD)]
    noise = [rng.gauss(0, sigma) * (2.5 if rng.random() < 0.01 else 1) for _ in base]
    values = [b + n for b, n in zip(base, noise, strict=True)]
    series = Series(f"{kind}-{seed}", kind, values, sigma=sigma)
    start = rng.randrange(EVAL_FROM + PERIOD // 4, DAYS * PERIOD - PERIOD // 2)
    _inject(series, rng, kind, start, base, shape, trend)
    return series


def _inject(
    s: Series, rng: random.Random, kind: str, start: int, base: list[float],
    shape: tuple[float, float, float, float], trend: float,
) -> None:  # fmt: skip
    sign = rng.choice((1, -1))
    if kind == "spike":
        width = rng.choice((1, 2))
        for i in range(start, start + width):
            s.values[i] += sign * rng.uniform(8, 14) * s.sigma
        s.windows.append((start, start + width + 2))
    elif kind == "level shift":
        length = rng.randrange(36, 97)
        shift = sign * rng.uniform(4, 8) * s.sigma
        for i in range(start, min(start + length, len(s.values))):
            s.values[i] += shift
        s.windows.append((start, min(start + length, len(s.values)) - 1))
    elif kind == "slow drift":
        ramp, hold = rng.randrange(48, 97), 24
        peak = sign * rng.uniform(6, 9) * s.sigma
        end = min(start + ramp + hold, len(s.values))
        for i in range(start, end):
            s.values[i] += peak * min(1.0, (i - start) / ramp)
        s.windows.append((start, end - 1))
    else:
        offset = rng.randrange(96, 145)
        broken = [i for i in range(start, min(start + PERIOD, len(s.values)))]
        marked = []
        for i in broken:
            moved = _normal(i + offset, shape, trend)
            if abs(moved - base[i]) > 3 * s.sigma:
                marked.append(i)
            s.values[i] += moved - base[i]
        if marked:
            s.windows.append((marked[0], marked[-1]))


def corpus(per_kind: int = 12, seed: int = 7) -> list[Series]:
    return [
        make(seed * 1000 + n * 10 + k, kind)
        for n in range(per_kind)
        for k, kind in enumerate(KINDS)
    ]
