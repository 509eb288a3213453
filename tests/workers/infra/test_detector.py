"""The anomaly detector on small, exact series: what it flags, what it tolerates, and why."""

from __future__ import annotations

import math

import pytest

from infra.detector import PERIOD, Config, baseline, evaluate

DAY = PERIOD


def daily(days: int, level: float = 100.0, amplitude: float = 40.0, noise: float = 2.0,
          trend: float = 0.0) -> dict[int, float]:  # fmt: skip
    """A daily pattern with deterministic wobble, `days` long, at 5-minute steps."""
    return {
        i: level * (1 + trend * i / DAY)
        + amplitude * math.sin(2 * math.pi * i / DAY)
        + noise * ((i * 7919) % 7 - 3) / 3
        for i in range(days * DAY)
    }


NOW = 7 * DAY + 100  # a step on the 8th day


def with_values(history: dict[int, float], changes: dict[int, float]) -> dict[int, float]:
    return {**history, **changes}


def test_normal_values_are_not_anomalous_and_sit_inside_the_band() -> None:
    history = daily(8)
    verdict = evaluate(history, NOW)
    assert verdict is not None and not verdict.anomalous and verdict.kind == ""
    assert verdict.lower < history[NOW] < verdict.upper
    assert verdict.days == 7


@pytest.mark.parametrize(("jump", "kind"), [(60.0, "spike"), (-60.0, "dip")])
def test_a_single_far_step_is_a_spike_or_a_dip(jump: float, kind: str) -> None:
    history = daily(8)
    verdict = evaluate(with_values(history, {NOW: history[NOW] + jump}), NOW)
    assert verdict is not None and verdict.anomalous and verdict.kind == kind


def test_a_moderate_shift_is_caught_once_it_lasts() -> None:
    history = daily(8)
    shifted = {i: history[i] + 25 for i in range(NOW - 5, NOW + 1)}
    first = evaluate(with_values(history, shifted), NOW - 5)
    later = evaluate(with_values(history, shifted), NOW)
    assert first is not None and not first.anomalous  # one step 25 above: within the band
    assert later is not None and later.anomalous and later.kind == "level shift"


def test_a_slow_ramp_is_called_a_drift() -> None:
    history = daily(8)
    ramp = {NOW - 30 + k: history[NOW - 30 + k] + k * 1.2 for k in range(31)}
    verdict = evaluate(with_values(history, ramp), NOW)
    assert verdict is not None and verdict.anomalous and verdict.kind == "drift"


def test_a_usual_value_at_an_unusual_time_is_a_seasonal_break() -> None:
    history = daily(8)
    night = NOW + DAY // 2  # half a day later the pattern is at the other extreme
    flat = {i: history[NOW] for i in range(night - 6, night + 1)}
    typical = (min(history.values()), max(history.values()))
    verdict = evaluate(with_values(daily(9), flat), night, typical=typical)
    assert verdict is not None and verdict.anomalous and verdict.kind == "seasonal break"


def test_yesterdays_incident_does_not_move_todays_baseline() -> None:
    history = daily(8)
    clean = baseline(history, NOW, Config())
    incident = {NOW - DAY + d: history[NOW - DAY + d] * 10 for d in range(-2, 3)}
    dirty = baseline(with_values(history, incident), NOW, Config())
    assert clean is not None and dirty is not None
    assert dirty.expected == pytest.approx(clean.expected, rel=0.02)


def test_a_growing_series_is_followed_by_its_trend() -> None:
    history = daily(8, trend=0.05, noise=0.5)  # +5% a day
    verdict = evaluate(history, NOW)
    assert verdict is not None and not verdict.anomalous
    assert verdict.expected == pytest.approx(history[NOW], rel=0.02)


def test_without_two_days_of_history_the_last_hours_are_the_baseline() -> None:
    history = {i: 50.0 + (i % 3) for i in range(100)}
    normal, spike = evaluate(history, 99), evaluate({**history, 99: 500.0}, 99)
    assert normal is not None and normal.days == 0 and not normal.anomalous
    assert spike is not None and spike.anomalous


def test_too_little_data_gives_no_verdict() -> None:
    assert evaluate({i: 1.0 for i in range(5)}, 4) is None
    assert evaluate(daily(8), NOW + 10 * DAY) is None  # no value at that step


def test_small_counts_are_judged_with_poisson_noise_not_as_exact_numbers() -> None:
    history = {i: float(i % 3) for i in range(8 * DAY)}  # 0, 1, 2 requests per step
    verdict = evaluate({**history, NOW: 6.0}, NOW, counter=True)
    assert verdict is not None and not verdict.anomalous and verdict.lower == 0.0
