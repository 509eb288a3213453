"""Forecasts: when each kind of limit is reached, and how loud the warning is."""

from __future__ import annotations

import pytest

from infra.forecast import daily, monthly, storage, trend


@pytest.mark.parametrize(
    ("values", "level", "slope"),
    [([], 0.0, 0.0), ([5.0], 5.0, 0.0), ([1.0, 2.0, 3.0, 4.0], 4.0, 1.0),
     ([10.0, 12.0, 500.0, 16.0, 18.0], 18.0, 2.0)],
)  # fmt: skip
def test_the_trend_is_a_robust_line(values: list[float], level: float, slope: float) -> None:
    assert trend(values) == (pytest.approx(level), pytest.approx(slope))


def test_a_growing_daily_usage_warns_days_before_the_limit() -> None:
    result = daily([600, 650, 700, 750, 800, 850], today=0, elapsed=0.0, limit=1000)
    assert (result.per_day, result.trend_per_day, result.days_until_limit) == (900, 50, 2)
    assert (result.projected, result.level) == (900, "warning")


def test_todays_pace_counts_once_enough_of_the_day_is_seen() -> None:
    result = daily([300] * 7, today=600, elapsed=0.5, limit=1000)
    assert (result.projected, result.days_until_limit, result.level) == (1200, 0, "critical")


def test_a_flat_usage_far_from_the_limit_is_fine() -> None:
    result = daily([100] * 7, today=20, elapsed=0.5, limit=100_000)
    assert (result.level, result.days_until_limit) == ("ok", None)


def test_a_month_is_projected_day_by_day() -> None:
    result = monthly([100_000] * 10, month_to_date=1_500_000, days_left=15.5, limit=3_000_000)
    assert result.projected == pytest.approx(3_050_000)
    assert (result.days_until_limit, result.level) == (15, "warning")


def test_storage_growth_gives_days_until_full() -> None:
    gb = 1_000_000_000
    result = storage([8 * gb, 8.2 * gb, 8.4 * gb, 8.6 * gb], limit=10 * gb)
    assert (result.days_until_limit, result.level) == (7, "warning")
    assert storage([gb, gb, gb], limit=10 * gb).days_until_limit is None
