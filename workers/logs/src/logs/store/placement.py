"""Where a record lives: a time bucket and a slot, one LogShard Durable Object per pair.

Buckets bound each object's size and let retention drop whole objects; slots spread a bucket
over several objects, chosen by service (CRC-32, stable across processes), so a query for one
service visits one slot per bucket. Row ids order records within a shard; (row id, slot)
orders them across shards, which is how results from many shards merge.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from logs.store.schema import ID_SCALE


@dataclass(frozen=True)
class Placement:
    slots: int
    bucket_ms: int

    def slot(self, service: str) -> int:
        return zlib.crc32(service.encode("utf-8", "surrogatepass")) % self.slots

    def bucket(self, ts_ms: int) -> int:
        return ts_ms // self.bucket_ms

    def name(self, bucket: int, slot: int) -> str:
        """The Durable Object name; the bucket width is part of it, so changing
        LOGS_BUCKET_HOURS never mixes two layouts in one object."""
        return f"logs:{self.bucket_ms // 3600_000}h:{bucket}:{slot}"

    def buckets(self, start_ms: int, end_ms: int) -> list[int]:
        """Buckets overlapping [start, end], newest first."""
        return list(range(self.bucket(end_ms), self.bucket(start_ms) - 1, -1))

    def id_range(self, bucket: int, start_ms: int, end_ms: int) -> tuple[int, int]:
        """Row ids of [start, end] (inclusive, ms) inside `bucket`: [lo, hi)."""
        lo = max(start_ms, bucket * self.bucket_ms) * ID_SCALE
        hi = (min(end_ms, (bucket + 1) * self.bucket_ms - 1) + 1) * ID_SCALE
        return lo, hi
