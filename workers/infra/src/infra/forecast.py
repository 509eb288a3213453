"""Forecasts for capacity planning: when does a usage reach its limit?

Three shapes of limit (see `plans`):
- daily flows: the day's total against a daily limit. Today is projected from the part of the
  day already seen and the usual daily total; the usual total follows a robust (Theil-Sen)
  trend over the last complete days, so a usage that grows 50 a day reaches a limit of 1,000
  from 900 in 2 days.
- monthly flows: the month's total so far plus the expected days left, day by day on the trend.
- storage levels: the latest level and its daily growth; days until it reaches the limit.

Pure functions over numbers; capacity.py reads the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

WARN_FRACTION = 0.8
CRITICAL_FRACTION = 0.95
WARN_DAYS = 7.0
STORAGE_HORIZON_DAYS = 30.0


@dataclass(frozen=True)
class Forecast:
    current: float  # today so far (daily), month to date (monthly), latest level (storage)
    projected: float  # at the end of the period (daily, monthly); in 30 days (storage)
    per_day: float  # usual daily total (flows) or growth per day (storage)
    trend_per_day: float  # change of the daily total per day (flows); = per_day for storage
    days_until_limit: float | None  # None: not within the horizon
    used: float  # current / limit
    level: str  # "ok", "warning", "critical"


def trend(values: Sequence[float]) -> tuple[float, float]:
    """(level at the last point, slope per point) of a robust line through `values`."""
    if not values:
        return 0.0, 0.0
    if len(values) < 3:
        return float(values[-1]), 0.0
    slopes = [
        (values[j] - values[i]) / (j - i)
        for i in range(len(values))
        for j in range(i + 1, len(values))
    ]
    slope = median(slopes)
    intercept = median(v - slope * i for i, v in enumerate(values))
    return intercept + slope * (len(values) - 1), slope


def daily(days: Sequence[float], today: float, elapsed: float, limit: float) -> Forecast:
    """`days`: totals of complete days, oldest first; `elapsed`: share of today gone (0-1)."""
    level, slope = trend(days)
    usual_today = max(0.0, level + slope)
    projected = today + usual_today * (1 - elapsed)
    if elapsed >= 0.25:  # enough of the day to trust its own pace as well
        projected = max(projected, today / elapsed)
    until: float | None = None
    if projected >= limit:
        until = 0.0
    elif slope > 0:
        until = math.ceil((limit - usual_today) / slope)
    return _forecast(today, projected, usual_today, slope, until, limit, WARN_DAYS)


def monthly(
    days: Sequence[float], month_to_date: float, days_left: float, limit: float
) -> Forecast:
    """`days_left`: days of the month still to come, counting what is left of today."""
    level, slope = trend(days)
    total, until = month_to_date, None
    whole = math.ceil(days_left)
    for k in range(1, whole + 1):
        share = days_left - (whole - 1) if k == 1 else 1.0
        total += max(0.0, level + slope * k) * share
        if until is None and total >= limit:
            until = float(k - 1)
    if month_to_date >= limit:
        until = 0.0
    return _forecast(month_to_date, total, max(0.0, level), slope, until, limit, WARN_DAYS)


def storage(levels: Sequence[float], limit: float) -> Forecast:
    """`levels`: the stored amount at the end of each day, oldest first (the last: now)."""
    if not levels:
        return _forecast(0.0, 0.0, 0.0, 0.0, None, limit, STORAGE_HORIZON_DAYS)
    current = float(levels[-1])
    _, slope = trend(levels)
    until: float | None = None if slope <= 0 else math.ceil((limit - current) / slope)
    if current >= limit:
        until = 0.0
    if until is not None and until > STORAGE_HORIZON_DAYS * 12:
        until = None  # years away is "not within the horizon"
    projected = current + slope * STORAGE_HORIZON_DAYS
    return _forecast(current, projected, slope, slope, until, limit, STORAGE_HORIZON_DAYS)


def _forecast(
    current: float, projected: float, per_day: float, slope: float, until: float | None,
    limit: float, warn_days: float,
) -> Forecast:  # fmt: skip
    used = current / limit if limit else 0.0
    if used >= CRITICAL_FRACTION or (until is not None and until <= 1):
        level = "critical"
    elif used >= WARN_FRACTION or projected >= limit or (until is not None and until <= warn_days):
        level = "warning"
    else:
        level = "ok"
    return Forecast(current, projected, per_day, slope, until, used, level)
