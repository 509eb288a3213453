"""Interval algebra: the exact arithmetic under every uptime figure."""

from __future__ import annotations

import pytest

from monitoring.intervals import Interval, clip, intersect, normalise, subtract, total


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([], []),
        ([(5, 5), (3, 1)], []),
        ([(10, 20), (0, 5), (5, 8)], [(0, 8), (10, 20)]),
        ([(0, 10), (2, 3), (9, 15)], [(0, 15)]),
    ],
)
def test_normalise_sorts_merges_and_drops_empties(
    given: list[Interval], expected: list[Interval]
) -> None:
    assert normalise(given) == expected


@pytest.mark.parametrize(
    ("intervals", "holes", "expected"),
    [
        ([(0, 100)], [], [(0, 100)]),
        ([(0, 100)], [(10, 20), (50, 60)], [(0, 10), (20, 50), (60, 100)]),
        ([(0, 100)], [(-5, 200)], []),
        ([(0, 10), (20, 30)], [(5, 25)], [(0, 5), (25, 30)]),
    ],
)
def test_subtract_cuts_holes(
    intervals: list[Interval], holes: list[Interval], expected: list[Interval]
) -> None:
    assert subtract(intervals, holes) == expected


def test_intersect_clip_and_total() -> None:
    assert intersect([(0, 10), (20, 30)], [(5, 25)]) == [(5, 10), (20, 25)]
    assert clip([(0, 10), (20, 30)], 8, 22) == [(8, 10), (20, 22)]
    assert total([(0, 10), (5, 15), (20, 21)]) == 16
