"""Nearest-rank percentiles: always a latency that was really measured."""

from __future__ import annotations

import pytest

from monitoring.latency import nearest_rank, summarise


@pytest.mark.parametrize(
    ("pct", "expected"), [(50, 50.0), (95, 95.0), (99, 99.0), (100, 100.0), (0.1, 1.0)]
)
def test_nearest_rank_over_one_to_a_hundred(pct: float, expected: float) -> None:
    assert nearest_rank([float(n) for n in range(1, 101)], pct) == expected


def test_summary_of_a_few_and_of_none() -> None:
    assert summarise([30.0, 10.0, 20.0]) == {
        "count": 3, "min_ms": 10.0, "mean_ms": 20.0, "max_ms": 30.0,
        "p50_ms": 20.0, "p95_ms": 30.0, "p99_ms": 30.0,
    }  # fmt: skip
    assert summarise([])["p99_ms"] is None
