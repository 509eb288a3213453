"""Median/MAD baselines: robust to their own outliers, and honest about their sample count."""

from __future__ import annotations

from security.behave.baseline import baseline, spike


def test_an_outlier_in_the_history_barely_moves_the_baseline() -> None:
    quiet = baseline([4, 5, 4, 6, 5, 4, 5])
    attacked = baseline([4, 5, 4, 6, 5, 4, 5, 900])
    assert quiet is not None and attacked is not None
    assert (quiet.median, quiet.mad, quiet.samples) == (5, 1, 7)
    assert (attacked.median, attacked.mad, attacked.samples) == (5, 1, 8)


def test_a_spike_needs_enough_samples_and_clears_both_floor_and_spread() -> None:
    history = [4.0] * 12
    assert spike(history[:5], 500, k=6, floor=20, min_samples=10) is None  # too few samples
    assert spike(history, 19, k=6, floor=20, min_samples=10) is None  # under the floor
    found = spike(history, 21, k=6, floor=20, min_samples=10)
    assert found is not None and found.threshold == 20
    assert found.baseline.describe() == "median 4, MAD 0 over 12 samples"
    noisy = [10.0, 30.0, 20.0, 40.0, 15.0, 35.0, 25.0, 20.0, 30.0, 10.0]
    assert spike(noisy, 80, k=6, floor=20, min_samples=10) is None  # within 6 robust sigmas
    assert spike(noisy, 120, k=6, floor=20, min_samples=10) is not None
