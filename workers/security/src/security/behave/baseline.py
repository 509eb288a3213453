"""Robust baselines: median and MAD, which a burst in the history cannot drag along.

A mean and standard deviation learnt over a window that contains an attack learn the attack;
the median moves by at most one rank per outlier and the MAD likewise. Every verdict states
how many samples it rests on, and a baseline with too few samples judges nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation


@dataclass(frozen=True, slots=True)
class Baseline:
    median: float
    mad: float
    samples: int

    @property
    def sigma(self) -> float:
        return self.mad * MAD_TO_SIGMA

    def threshold(self, k: float, floor: float) -> float:
        """The value above which an observation is anomalous: median + k robust sigmas,
        never below `floor` (a quiet source's first real request is not a spike)."""
        # A perfectly regular history has MAD 0; one unit of spread keeps k meaningful.
        spread = max(self.sigma, 1.0)
        return max(floor, self.median + k * spread)

    def describe(self) -> str:
        return f"median {self.median:g}, MAD {self.mad:g} over {self.samples} samples"


def baseline(values: list[float]) -> Baseline | None:
    if not values:
        return None
    centre = median(values)
    spread = median(abs(v - centre) for v in values)
    return Baseline(centre, spread, len(values))


@dataclass(frozen=True, slots=True)
class Spike:
    value: float
    threshold: float
    baseline: Baseline


def spike(
    history: list[float], value: float, *, k: float, floor: float, min_samples: int
) -> Spike | None:
    """`value` as a spike over `history`, if the history is long enough to say so."""
    if value <= floor:  # no threshold is below the floor: spare the baseline's sorting
        return None
    base = baseline(history)
    if base is None or base.samples < min_samples:
        return None
    limit = base.threshold(k, floor)
    return Spike(value, limit, base) if value > limit else None
