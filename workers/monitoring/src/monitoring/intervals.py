"""Half-open time intervals `[start, end)` in epoch milliseconds, and the set algebra on them.

Uptime is arithmetic on intervals: the time a check was monitored, minus maintenance, against
the time it was down. Every function takes and returns sorted, non-overlapping lists, so results
are exact to the millisecond (no sampling, no floating point until the final percentage).
"""

from __future__ import annotations

from collections.abc import Iterable

Interval = tuple[int, int]


def normalise(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, merged, without empty intervals (touching intervals merge into one)."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def clip(intervals: Iterable[Interval], start: int, end: int) -> list[Interval]:
    """The parts of `intervals` inside `[start, end)`."""
    return normalise((max(s, start), min(e, end)) for s, e in intervals)


def subtract(intervals: Iterable[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """`intervals` minus every hole."""
    result: list[Interval] = []
    cuts = normalise(holes)
    for start, end in normalise(intervals):
        cursor = start
        for hole_start, hole_end in cuts:
            if hole_end <= cursor or hole_start >= end:
                continue
            if hole_start > cursor:
                result.append((cursor, hole_start))
            cursor = max(cursor, hole_end)
        if cursor < end:
            result.append((cursor, end))
    return result


def intersect(left: Iterable[Interval], right: Iterable[Interval]) -> list[Interval]:
    """Time covered by both lists."""
    a, b = normalise(left), normalise(right)
    result: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            result.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return result


def total(intervals: Iterable[Interval]) -> int:
    """Milliseconds covered (overlaps counted once)."""
    return sum(end - start for start, end in normalise(intervals))
