"""Where a record lives: a time bucket and a slot, one LogShard Durable Object per pair.

Buckets bound each object's size and let retention drop whole objects; slots spread a bucket
over several objects. A batch goes to one slot, the next batch of this isolate to the next
slot: each shard's write is a whole batch in one transaction (a commit costs about one page
write per row it places among older rows, so a batch split N ways costs up to N times the
page writes), and load spreads evenly however skewed the services are. A read asks every
slot of a bucket (it did without a service filter anyway). Row ids order records within a
shard; (row id, slot) orders them across shards, which is how results from many shards merge.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from logs.store.schema import ID_SCALE

_turns = itertools.count()  # per isolate: which slot takes the next batch


@dataclass(frozen=True)
class Placement:
    slots: int
    bucket_ms: int

    def next_slot(self) -> int:
        """The slot for the next batch (round robin)."""
        return next(_turns) % self.slots

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
