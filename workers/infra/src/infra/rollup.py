"""Hourly rollups: per series per day, 24 slots of (count, sum, min, max) of minute values.

`count` is how many minutes had a sample, so a gauge's hourly mean is `sum / count` and a
counter's hourly increase is `sum`. A day is stored as four `codec` chunks (one per statistic),
each prefixed by its length in two bytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from infra import codec

Stats = tuple[float, float, float, float]  # count, sum, min, max
Table = list[list[float | None]]  # [counts, sums, mins, maxes], 24 slots each
HOURS = 24


def empty() -> Table:
    return [[None] * HOURS for _ in range(4)]


def set_hour(table: Table, slot: int, values: list[float]) -> None:
    stats = summarize(values)
    for column in range(4):
        table[column][slot] = None if stats is None else stats[column]


def summarize(values: list[float]) -> Stats | None:
    if not values:
        return None
    return (float(len(values)), float(sum(values)), min(values), max(values))


def encode(table: Table) -> bytes:
    out = bytearray()
    for column in table:
        chunk = codec.encode(column)
        out += len(chunk).to_bytes(2, "big") + chunk
    return bytes(out)


def decode(data: bytes | bytearray | memoryview) -> Table:
    raw, pos, table = bytes(data), 0, []
    for _ in range(4):
        length = int.from_bytes(raw[pos : pos + 2], "big")
        table.append(codec.decode(raw[pos + 2 : pos + 2 + length]))
        pos += 2 + length
    return table


def hours(day: int, table: Table) -> Iterator[tuple[int, Stats]]:
    """(epoch hour, stats) for every filled slot of one day."""
    counts, sums, mins, maxes = table
    for slot in range(HOURS):
        count, total, low, high = counts[slot], sums[slot], mins[slot], maxes[slot]
        if count is not None and total is not None and low is not None and high is not None:
            yield day * HOURS + slot, (count, total, low, high)


def from_minutes(values: Mapping[int, float]) -> dict[int, Stats]:
    """Hourly stats of minute values keyed by epoch minute."""
    grouped: dict[int, list[float]] = {}
    for minute, value in values.items():
        grouped.setdefault(minute // 60, []).append(value)
    return {hour: stats for hour, vals in grouped.items() if (stats := summarize(vals))}
