"""Everything the infra Worker stores, as series entries bound for the shards.

OTLP points, native JSON points, binding telemetry and polled analytics all come through a
`Batch`: it flattens histograms into `_count`/`_sum`/`_bucket{le}` series, groups points per
series and splits the batch by shard (a metric family always lives on one shard). Each shard's
part crosses the RPC boundary as one JSON string: one string copies far cheaper than thousands
of small objects.

Exponential histograms are stored on the scale-3 grid (bucket bounds `2**(k/8)`, about 9%
apart): finer scales are merged down exactly, coarser scales already lie on that grid, so every
source of one family shares bucket bounds and merges bucket by bucket.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from infra.series import INF_MARK as _INF_MARK
from infra.series import canonical_labels

SHARDS = 4
GRID_SCALE = 3
MAX_EXPONENT = 1000.0  # 2**1000 is near the top of a double; beyond that a bucket is +Inf


def shard_of(family: str, shards: int = SHARDS) -> int:
    return zlib.crc32(family.encode()) % shards


def format_le(bound: float) -> str:
    if math.isinf(bound):
        return "+Inf" if bound > 0 else "-Inf"
    text = repr(float(bound))
    return text[:-2] if text.endswith(".0") else text


def grid_bound(exponent: float) -> float:
    """`2**exponent` rounded to 12 significant digits, so equal bounds compare equal."""
    if exponent > MAX_EXPONENT:
        return math.inf
    return float(f"{2.0**exponent:.12g}")


@dataclass
class Batch:
    entries: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    points: int = 0

    def number(
        self,
        name: str,
        labels: Mapping[str, str],
        t_ms: int,
        value: float,
        *,
        counter: bool,
        cumulative: bool = False,
        start_ms: int = 0,
        unit: str = "",
        agg: str | None = None,
    ) -> None:
        kind = "counter" if counter else "gauge"
        self._add(name, labels, name, kind, "value", agg or ("sum" if counter else "last"),
                  None, unit, cumulative, t_ms, start_ms, value)  # fmt: skip

    def histogram(
        self,
        family: str,
        labels: Mapping[str, str],
        t_ms: int,
        count: float,
        total: float,
        buckets: Iterable[tuple[float, float]],
        *,
        cumulative: bool = False,
        start_ms: int = 0,
        unit: str = "",
        grid: bool = False,
    ) -> None:
        """A histogram sample: `buckets` are non-cumulative `(upper bound, count)` pairs.

        Explicit buckets are all stored (their bounds are each other's lower edges); buckets on
        the scale-3 grid (`grid`) are stored only when not empty, as role `gbucket`, and a
        query knows their lower edge from the grid.
        """
        parts = ((f"{family}_count", "count", count), (f"{family}_sum", "sum", total))
        for name, role, value in parts:
            self._add(name, labels, family, "histogram", role, "sum", None, unit, cumulative,
                      t_ms, start_ms, value)  # fmt: skip
        role = "gbucket" if grid else "bucket"
        for le, bucket_count in buckets:
            if bucket_count or cumulative or not grid:
                with_le = {**labels, "le": format_le(le)}
                self._add(f"{family}_bucket", with_le, family, "histogram", role, "sum", le,
                          unit, cumulative, t_ms, start_ms, bucket_count)  # fmt: skip

    def observation(self, family: str, labels: Mapping[str, str], t_ms: int, value: float,
                    unit: str = "") -> None:  # fmt: skip
        """One observed value, as a histogram sample of one on the scale-3 grid."""
        self.histogram(family, labels, t_ms, 1, value, [(grid_upper(value), 1)], unit=unit,
                       grid=True)  # fmt: skip

    def _add(
        self, name: str, labels: Mapping[str, str], family: str, kind: str, role: str, agg: str,
        le: float | None, unit: str, cumulative: bool, t_ms: int, start_ms: int, value: float,
    ) -> None:  # fmt: skip
        key = (name, canonical_labels(labels))
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = {
                "n": name, "l": key[1], "f": family, "k": kind, "r": role, "a": agg,
                "le": None if le is None else (le if math.isfinite(le) else _INF_MARK),
                "u": unit, "c": cumulative, "p": [],
            }  # fmt: skip
        entry["p"].append([int(t_ms), int(start_ms), float(value)])
        self.points += 1

    def payloads(self, shards: int = SHARDS) -> dict[int, str]:
        """Per shard, its entries as one JSON string of positional rows (`FIELDS` order, the
        points flattened): fewer tokens to parse than objects with keys."""
        split: dict[int, list[list[Any]]] = {}
        for entry in self.entries.values():
            row = [entry[key] for key in FIELDS[:-1]]
            row.append([x for point in entry["p"] for x in point])
            split.setdefault(shard_of(entry["f"], shards), []).append(row)
        return {shard: json.dumps(part, separators=(",", ":")) for shard, part in split.items()}


FIELDS = ("n", "l", "f", "k", "r", "a", "le", "u", "c", "p")


def from_row(row: list[Any]) -> dict[str, Any]:
    """An entry from a positional payload row."""
    entry = dict(zip(FIELDS, row, strict=True))
    flat = entry["p"]
    entry["p"] = [flat[i : i + 3] for i in range(0, len(flat), 3)]
    return entry


GRID_RATIO: float = math.pow(2.0, 1 / 2**GRID_SCALE)


def grid_lower(upper: float) -> float:
    """Lower edge of the grid bucket whose upper bound is `upper`."""
    if upper > 0 and math.isfinite(upper):
        return upper / GRID_RATIO
    if upper < 0:
        return upper * GRID_RATIO
    return upper


def grid_upper(value: float) -> float:
    """Upper bound of the scale-3 grid bucket holding `value` (0 for zero and below)."""
    if value <= 0:
        return 0.0
    step = 2**GRID_SCALE
    return grid_bound(math.ceil(math.log2(value) * step - 1e-9) / step)


def exponential_buckets(
    scale: int,
    zero_count: int,
    zero_threshold: float,
    positive: tuple[int, Sequence[int]],
    negative: tuple[int, Sequence[int]],
) -> list[tuple[float, float]]:
    """OTLP exponential buckets as `(upper bound, count)` pairs on the scale-3 grid."""
    shift = max(0, scale - GRID_SCALE)
    target = scale - shift
    out: dict[float, float] = {}
    if zero_count:
        out[float(zero_threshold)] = float(zero_count)
    offset, counts = positive
    for i, count in enumerate(counts):
        if count:
            upper = grid_bound((((offset + i) >> shift) + 1) / 2**target)
            out[upper] = out.get(upper, 0.0) + count
    offset, counts = negative
    for i, count in enumerate(counts):
        if count:
            upper = -grid_bound(((offset + i) >> shift) / 2**target)
            out[upper] = out.get(upper, 0.0) + count
    return sorted(out.items())
