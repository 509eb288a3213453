"""A mergeable quantile sketch with bounded relative error (DDSketch, Masson et al., VLDB 2019).

Values land in logarithmic buckets: bucket `k` holds `(gamma**(k-1), gamma**k]` with
`gamma = (1 + a) / (1 - a)`, and answers with `2 * gamma**k / (gamma + 1)`, which is within a
relative error `a` of every value in the bucket. Merging adds bucket counts, so sketches of
minutes, shards and hosts merge into the sketch of their union *exactly*: the accuracy after
any number of merges is the accuracy of one sketch, which is why latency percentiles are kept
this way rather than as stored percentiles (which cannot be merged).

Only values >= 0 are accepted (latencies, sizes, counts); values below `MIN_POSITIVE` count in
a zero bucket. Pure Python and stdlib only, so it runs on Cloudflare's Python Workers.

API: `Sketch(relative_accuracy=0.01)`, `.add(v)`, `.merge(other)`, `.quantile(q)`, `.count`,
`.to_bytes()`, `Sketch.from_bytes(b)`; besides those `.sum`, `.min`, `.max`, `.quantiles(qs)`
(several quantiles in one pass), `.rank(v)` (how many values are <= v, for Apdex-style counts)
and `.subtract(other)` (for prefix sums: remove a sketch that was merged in earlier).
Quantiles are nearest rank (numpy's `inverted_cdf`).
"""

from __future__ import annotations

import math
import operator
import struct
from bisect import bisect_left
from collections.abc import Callable
from itertools import accumulate

__all__ = ["MIN_POSITIVE", "Sketch", "SketchError"]

MIN_POSITIVE = 1e-9  # smaller values are counted as zero (1 ns expressed in seconds)
_VERSION = 1
_DEFAULT_ACCURACY = 0.01
_FLAG_CUSTOM_ACCURACY = 0x01
_FLAG_VALUES = 0x08  # min/max/sum follow (the sketch is not empty)
_WIDTHS = ((1, "B"), (2, "H"), (4, "I"), (8, "Q"))  # width code -> bytes, memoryview format
_MAPPINGS: dict[float, tuple[float, float]] = {}
_F64 = struct.Struct("<d")
_F64X3 = struct.Struct("<ddd")


class SketchError(ValueError):
    """A value the sketch cannot hold, bytes that are not a sketch, or mismatched sketches."""


class Sketch:
    """Quantiles of non-negative values within `relative_accuracy` (0.01 = 1%).

    Buckets are kept dense: `_counts[i]` counts bucket `_offset + i`. Latencies of one
    operation span a few hundred buckets, so merging, subtracting and reading quantiles are
    list operations the interpreter runs in C (`map`, `accumulate`, `bisect`).
    """

    __slots__ = (
        "_count", "_counts", "_gamma", "_max", "_min", "_multiplier", "_offset", "_sum",
        "_zero", "relative_accuracy",
    )  # fmt: skip

    def __init__(self, relative_accuracy: float = _DEFAULT_ACCURACY) -> None:
        if not 0.0 < relative_accuracy < 1.0:
            raise SketchError("relative_accuracy must be between 0 and 1 (exclusive)")
        self.relative_accuracy = relative_accuracy
        mapping = _MAPPINGS.get(relative_accuracy)
        if mapping is None:  # gamma and 1/ln(gamma), computed once per accuracy
            gamma = (1.0 + relative_accuracy) / (1.0 - relative_accuracy)
            mapping = _MAPPINGS[relative_accuracy] = (gamma, 1.0 / math.log(gamma))
        self._gamma, self._multiplier = mapping
        self._offset = 0
        self._counts: list[int] = []
        self._zero = 0
        self._count = 0
        self._sum = 0.0
        self._min = math.inf
        self._max = -math.inf

    # --- recording ------------------------------------------------------------------------
    def add(self, value: float) -> None:
        """Record one value (>= 0 and finite)."""
        if value > MIN_POSITIVE:
            try:
                key = math.ceil(math.log(value) * self._multiplier)
            except OverflowError:  # inf
                raise SketchError("sketch values must be finite") from None
            counts = self._counts
            index = key - self._offset
            if 0 <= index < len(counts):
                counts[index] += 1
            else:
                self._widen(key, key)
                self._counts[key - self._offset] += 1
        elif value >= 0.0:
            self._zero += 1
        else:  # negative or NaN
            raise SketchError(f"sketch values must be >= 0, got {value!r}")
        self._count += 1
        self._sum += value
        if value < self._min:
            self._min = value
        if value > self._max:
            self._max = value

    def merge(self, other: Sketch) -> None:
        """Add every value of `other` (same relative accuracy) to this sketch.

        Unknown extremes (NaN, after `subtract`) on either side stay unknown: quantiles are
        then answered from the buckets, not clamped to a minimum or maximum that is wrong."""
        self._check_compatible(other)
        if not self._counts:  # into an empty sketch: a copy, no arithmetic
            self._offset, self._counts = other._offset, other._counts[:]
        elif other._counts:
            self._combine(other, operator.add)
        self._zero += other._zero
        self._count += other._count
        self._sum += other._sum
        if other._count:  # an empty sketch's extremes (+-inf) add nothing
            self._min = _lower(self._min, other._min)
            self._max = -_lower(-self._max, -other._max)

    def subtract(self, other: Sketch) -> None:
        """Remove the values of `other`, which must have been merged into this sketch before.

        Exact on counts (prefix sums: `total(until) - total(since)`); the exact minimum and
        maximum are lost, so quantiles are no longer clamped to them (still within accuracy).
        """
        self._check_compatible(other)
        if not other._count:
            return
        if other._zero > self._zero or other._count > self._count:
            raise SketchError("cannot subtract a sketch that is not contained in this one")
        if other._counts:
            self._combine(other, operator.sub)
            if min(self._counts) < 0:
                raise SketchError("cannot subtract a sketch that is not contained in this one")
        self._zero -= other._zero
        self._count -= other._count
        self._sum = max(0.0, self._sum - other._sum)
        self._min, self._max = (math.nan, math.nan) if self._count else (math.inf, -math.inf)

    def _widen(self, low: int, high: int) -> None:
        """Make room for buckets `low..high`."""
        counts = self._counts
        if not counts:
            self._offset, self._counts = low, [0] * (high - low + 1)
            return
        if low < self._offset:
            self._counts = counts = [0] * (self._offset - low) + counts
            self._offset = low
        end = self._offset + len(counts) - 1
        if high > end:
            counts.extend([0] * (high - end))

    def _combine(self, other: Sketch, op: Callable[[int, int], int]) -> None:
        low = other._offset
        self._widen(low, low + len(other._counts) - 1)
        start = low - self._offset
        stop = start + len(other._counts)
        self._counts[start:stop] = map(op, self._counts[start:stop], other._counts)

    # --- reading --------------------------------------------------------------------------
    @property
    def count(self) -> int:
        return self._count

    @property
    def sum(self) -> float:
        return self._sum

    @property
    def min(self) -> float | None:
        return self._min if self._count and not math.isnan(self._min) else None

    @property
    def max(self) -> float | None:
        return self._max if self._count and not math.isnan(self._max) else None

    def quantile(self, q: float) -> float | None:
        """The value at quantile `q` (0..1), or None when the sketch is empty.

        Nearest rank (numpy's `inverted_cdf`): the smallest recorded value with at least
        `q * count` values at or below it, so the p95 of 20 requests is the 19th fastest.
        """
        return self.quantiles([q])[0]

    def quantiles(self, qs: list[float]) -> list[float | None]:
        """`quantile` of each of `qs`, in one pass over the buckets."""
        if any(not 0.0 <= q <= 1.0 for q in qs):
            raise SketchError("quantile must be between 0 and 1")
        if not self._count:
            return [None] * len(qs)
        exact = not math.isnan(self._min)
        running = list(accumulate(self._counts, initial=self._zero))
        out: list[float | None] = []
        for q in qs:
            # The epsilon keeps 0.95 * 100 (= 95.00000000000001) at rank 95.
            target = max(1, math.ceil(q * self._count - 1e-9))
            if exact and target in (1, self._count):  # smallest or largest: known exactly
                out.append(self._min if target == 1 else self._max)
                continue
            index = bisect_left(running, target)  # running[0] is the zero bucket
            if index == 0:
                value = 0.0
            elif index >= len(running):
                value = self._max
            else:
                value = 2.0 * self._gamma ** (self._offset + index - 1) / (self._gamma + 1.0)
            if exact:  # never answer outside the recorded extremes
                value = min(max(value, self._min), self._max)
            out.append(value)
        return out

    def rank(self, value: float) -> int:
        """How many recorded values are <= `value` (bucket-exact: within relative accuracy)."""
        if value < 0.0:
            return 0
        if value <= MIN_POSITIVE:
            return self._zero
        limit = math.ceil(math.log(value) * self._multiplier) - self._offset
        return self._zero + sum(self._counts[: max(0, limit + 1)])

    # --- serialisation --------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """Compact bytes: header, exact min/max/sum, then dense fixed-width bucket counts."""
        custom = self.relative_accuracy != _DEFAULT_ACCURACY
        counts, low = self._counts, self._offset
        first = next((i for i, c in enumerate(counts) if c), len(counts))
        last = next((i for i in range(len(counts) - 1, -1, -1) if counts[i]), -1)
        dense = counts[first : last + 1]
        low = low + first if dense else 0
        code = _width_code(max(dense, default=0))
        flags = (code << 1) | (_FLAG_CUSTOM_ACCURACY if custom else 0)
        flags |= _FLAG_VALUES if self._count else 0
        out = bytearray((_VERSION, flags))
        if custom:
            out += _F64.pack(self.relative_accuracy)
        out += _varint(self._zero)
        if self._count:
            out += _F64X3.pack(self._min, self._max, self._sum)
        out += _varint((low << 1) ^ (low >> 63))  # zigzag: small negatives stay small
        out += _varint(len(dense))
        out += struct.pack(f"<{len(dense)}{_WIDTHS[code][1]}", *dense)
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Sketch:
        """The sketch `to_bytes` wrote; `SketchError` for anything else."""
        try:
            return cls._decode(bytes(data))
        except (IndexError, struct.error, ValueError) as error:
            if isinstance(error, SketchError):
                raise
            raise SketchError(f"not a serialised sketch: {error}") from None

    @classmethod
    def _decode(cls, data: bytes) -> Sketch:
        if len(data) < 2 or data[0] != _VERSION:
            raise SketchError("not a serialised sketch (unknown version)")
        flags, pos = data[1], 2
        accuracy = _DEFAULT_ACCURACY
        if flags & _FLAG_CUSTOM_ACCURACY:
            (accuracy,) = _F64.unpack_from(data, pos)
            pos += 8
        sketch = cls(accuracy)
        sketch._zero, pos = _read_varint(data, pos)
        if flags & _FLAG_VALUES:
            sketch._min, sketch._max, sketch._sum = _F64X3.unpack_from(data, pos)
            pos += 24
        zigzag, pos = _read_varint(data, pos)
        span, pos = _read_varint(data, pos)
        width, fmt = _WIDTHS[(flags >> 1) & 0x03]
        if len(data) != pos + span * width:
            raise SketchError("not a serialised sketch (wrong length)")
        sketch._offset = (zigzag >> 1) ^ -(zigzag & 1)
        sketch._counts = list(struct.unpack_from(f"<{span}{fmt}", data, pos))
        sketch._count = sketch._zero + sum(sketch._counts)
        if not sketch._count:
            sketch._min, sketch._max, sketch._sum = math.inf, -math.inf, 0.0
        return sketch

    def _check_compatible(self, other: Sketch) -> None:
        if other._gamma != self._gamma:
            raise SketchError("cannot combine sketches of different relative accuracy")

    def __repr__(self) -> str:
        return f"Sketch(relative_accuracy={self.relative_accuracy}, count={self._count})"


def _lower(mine: float, theirs: float) -> float:
    """The smaller extreme, where NaN (unknown, after a subtraction) wins: `min()` would keep
    whichever comes first, so an empty sketch merged with an unknown one would claim +inf."""
    if math.isnan(mine) or math.isnan(theirs):
        return math.nan
    return theirs if theirs < mine else mine


def _width_code(largest: int) -> int:
    for code, (width, _) in enumerate(_WIDTHS):
        if largest < 1 << (8 * width):
            return code
    raise SketchError("a bucket count does not fit in 64 bits")


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    if data[pos] < 0x80:  # one byte: nearly every varint a sketch writes
        return data[pos], pos + 1
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise SketchError("not a serialised sketch (varint too long)")
