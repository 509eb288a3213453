"""Everything the infra Worker stores, as series entries bound for the shards.

OTLP points, native JSON points, binding telemetry and polled analytics all come through a
`Batch`: it flattens histograms into `_count`/`_sum`/`_bucket{le}` series, groups points per
series in blocks (series that share name and kind, differing only in labels) and splits the
batch by shard (a metric family always lives on one shard). Each shard's part crosses the RPC
boundary as a small JSON header and one bytes value of packed numbers: two values copy far
cheaper than thousands of small objects.

Exponential histograms are stored on the scale-3 grid (bucket bounds `2**(k/8)`, about 9%
apart): finer scales are merged down exactly, coarser scales already lie on that grid, so every
source of one family shares bucket bounds and merges bucket by bucket.
"""

from __future__ import annotations

import json
import math
import sys
import zlib
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
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


Meta = tuple[str, str, str, str, str, "float | None", str, bool]  # name, family, kind, role,
# agg, le, unit, cumulative: what the points of one block share (a bucket block's labels carry
# no `le`; the shard adds it, once per label set).


@dataclass(slots=True)
class Block:
    """Points of one kind of series, as columns: label id, time, start, value."""

    ids: list[int] = field(default_factory=list)
    ts: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


class Batch:
    """Points bound for the shards, grouped in blocks of series that share everything but
    their labels; label sets are numbered once per batch."""

    def __init__(self) -> None:
        self.blocks: dict[Meta, Block] = {}
        self.labels: dict[str, int] = {}
        self.points = 0
        self._families: dict[tuple[Any, ...], tuple[Block, Block, list[Block]]] = {}

    def label_id(self, labels: str) -> int:
        found = self.labels.get(labels)
        if found is None:
            found = self.labels[labels] = len(self.labels)
        return found

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
        add = self.series_adder(name, name, kind, "value", agg or ("sum" if counter else "last"),
                                None, unit, cumulative)  # fmt: skip
        add(canonical_labels(labels), t_ms, start_ms, value)

    def block(
        self, name: str, family: str, kind: str, role: str, agg: str, le: float | None,
        unit: str, cumulative: bool,
    ) -> Block:  # fmt: skip
        meta: Meta = (name, family, kind, role, agg, le, unit, cumulative)
        found = self.blocks.get(meta)
        if found is None:
            found = self.blocks[meta] = Block()
        return found

    def series_adder(
        self, name: str, family: str, kind: str, role: str, agg: str, le: float | None,
        unit: str, cumulative: bool,
    ) -> Callable[[str, int, int, float], None]:  # fmt: skip
        """A function adding points (canonical labels, t, start, value) to one block."""
        block = self.block(name, family, kind, role, agg, le, unit, cumulative)
        ids, ts, starts, values, labels = (
            block.ids, block.ts, block.starts, block.values, self.labels
        )  # fmt: skip

        def add(label_set: str, t_ms: int, start_ms: int, value: float) -> None:
            found = labels.get(label_set)
            if found is None:
                found = labels[label_set] = len(labels)
            ids.append(found)
            ts.append(int(t_ms))
            starts.append(int(start_ms))
            values.append(float(value))
            self.points += 1

        return add

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
        kept = [(le, c) for le, c in buckets if c or cumulative or not grid]
        self._histogram(family, canonical_labels(labels), int(t_ms), float(count), float(total),
                        tuple(le for le, _ in kept), [float(c) for _, c in kept], cumulative,
                        int(start_ms), unit, "gbucket" if grid else "bucket")  # fmt: skip

    def histogram_canonical(
        self, family: str, labels: str, t_ms: int, count: float, total: float,
        bounds: Sequence[float], counts: Sequence[float], *, cumulative: bool, start_ms: int,
        unit: str,
    ) -> None:  # fmt: skip
        """An explicit-bucket histogram sample with canonical labels; `counts` has one more
        entry than `bounds` (the +Inf bucket)."""
        self._histogram(family, labels, t_ms, count, total, (*bounds, math.inf), counts,
                        cumulative, start_ms, unit, "bucket")  # fmt: skip

    def histogram_blocks(
        self, family: str, les: tuple[float, ...], cumulative: bool, unit: str, role: str
    ) -> list[Block]:
        """The blocks a histogram sample is added to: count, sum, then one per bucket of `les`
        (upper bounds, the last +Inf) in that order."""
        key = (family, les, cumulative, unit, role)
        blocks = self._families.get(key)
        if blocks is None:
            blocks = self._families[key] = self._family_blocks(key)
        return [blocks[0], blocks[1], *blocks[2]]

    def _histogram(
        self, family: str, labels: str, t_ms: int, count: float, total: float,
        les: tuple[float, ...], counts: Sequence[float], cumulative: bool, start_ms: int,
        unit: str, role: str,
    ) -> None:  # fmt: skip
        key = (family, les, cumulative, unit, role)
        blocks = self._families.get(key)
        if blocks is None:
            blocks = self._families[key] = self._family_blocks(key)
        label = self.label_id(labels)
        for block, value in zip(
            (blocks[0], blocks[1], *blocks[2]), (count, total, *counts), strict=True
        ):
            block.ids.append(label)
            block.ts.append(t_ms)
            block.starts.append(start_ms)
            block.values.append(float(value))
        self.points += len(counts) + 2

    def _family_blocks(self, key: tuple[Any, ...]) -> tuple[Block, Block, list[Block]]:
        family, les, cumulative, unit, role = key

        def block(name: str, role: str, le: float | None) -> Block:
            meta: Meta = (name, family, "histogram", role, "sum", le, unit, cumulative)
            return self.blocks.setdefault(meta, Block())

        buckets = [block(f"{family}_bucket", role, le) for le in les]
        return block(f"{family}_count", "count", None), block(f"{family}_sum", "sum", None), buckets

    def observation(self, family: str, labels: Mapping[str, str], t_ms: int, value: float,
                    unit: str = "") -> None:  # fmt: skip
        """One observed value, as a histogram sample of one on the scale-3 grid."""
        self.histogram(family, labels, t_ms, 1, value, [(grid_upper(value), 1)], unit=unit,
                       grid=True)  # fmt: skip

    @property
    def entries(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Per series `{n, l, f, k, r, a, le, u, c, p: [[t, start, value]]}` (ShardCore.ingest)."""
        names = list(self.labels)
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for (name, family, kind, role, agg, le, unit, cumulative), block in self.blocks.items():
            for i, label in enumerate(block.ids):
                labels = names[label] if le is None else with_le(names[label], le)
                entry = out.get((name, labels))
                if entry is None:
                    entry = out[(name, labels)] = {
                        "n": name, "l": labels, "f": family, "k": kind, "r": role, "a": agg,
                        "le": None if le is None else (le if math.isfinite(le) else _INF_MARK),
                        "u": unit, "c": cumulative, "p": [],
                    }  # fmt: skip
                entry["p"].append([block.ts[i], block.starts[i], block.values[i]])
        return out

    def payloads(self, shards: int = SHARDS) -> dict[int, dict[str, Any]]:
        """Per shard: `h`, a JSON header (the label sets, and per block its meta and length);
        `d`, the blocks' label ids, times and starts as little-endian int64, block after block
        (a time or start column that holds one value is sent as that value), then their values
        as little-endian doubles.

        Numbers cross as one bytes value: packing and unpacking them is a copy, where JSON
        would print and parse every one of them."""
        heads: dict[int, list[Any]] = {}
        columns: dict[int, tuple[array[int], array[float]]] = {}
        for meta, block in self.blocks.items():
            if not block.ids:
                continue
            shard = shard_of(meta[1], shards)
            le = meta[5]
            ids, ts, starts, values = _in_time_order(block)
            n = len(ids)
            # A metric's points usually share their time and start: those columns are sent
            # once (bit 1: times, bit 2: starts), which halves what crosses and is logged.
            same = (ts.count(ts[0]) == n) | (starts.count(starts[0]) == n) << 1
            heads.setdefault(shard, []).append(
                [*meta[:5], None if le is None else (le if math.isfinite(le) else _INF_MARK),
                 *meta[6:], n, same]
            )  # fmt: skip
            data = columns.get(shard)
            if data is None:
                data = columns[shard] = (array("q"), array("d"))
            data[0].extend(ids)
            data[0].extend(ts[:1] if same & 1 else ts)
            data[0].extend(starts[:1] if same & 2 else starts)
            data[1].extend(values)
        names = list(self.labels)
        out = {}
        for shard, blocks in heads.items():
            integers, doubles = columns[shard]
            if sys.byteorder != "little":
                integers.byteswap()
                doubles.byteswap()
            header = json.dumps({"labels": names, "blocks": blocks}, separators=(",", ":"))
            out[shard] = {"h": header, "d": integers.tobytes() + doubles.tobytes()}
        return out


def _in_time_order(block: Block) -> tuple[list[Any], ...]:
    """The block's columns, sorted by time when they are not (a cumulative series must see its
    samples in order); exports send one sample per series, so this rarely sorts."""
    columns = (block.ids, block.ts, block.starts, block.values)
    ts = block.ts
    if ts == sorted(ts):  # a C-speed pass over the usual, already ordered, column
        return columns
    order = sorted(range(len(ts)), key=ts.__getitem__)
    return tuple([column[i] for i in order] for column in columns)


FIELDS = ("n", "f", "k", "r", "a", "le", "u", "c", "count", "same")
_WITH_LE: dict[tuple[str, float], str] = {}


def with_le(labels: str, le: float) -> str:
    """Canonical labels plus `le` (cached: a family repeats the same few bounds)."""
    found = _WITH_LE.get((labels, le))
    if found is None:
        merged = json.loads(labels)
        merged["le"] = format_le(le)
        found = canonical_labels(merged)
        if len(_WITH_LE) >= 200_000:
            _WITH_LE.clear()
        _WITH_LE[(labels, le)] = found
    return found


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
