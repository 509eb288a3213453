"""In-memory aggregation of binding operations and Worker invocations, per minute.

Every observation updates one small record keyed by (minute, what): a count, the seconds spent,
the slowest, the bytes moved and a sparse latency histogram on a fixed exponential grid (bucket
`k` holds durations in `(2**((k-1)/8), 2**(k/8)]` seconds, about 9% wide; durations of zero go to
`ZERO_BUCKET`). Records merge by addition, so a batch is exact however often it is flushed.

Memory is bounded: past `max_keys` distinct records per batch, further observations are counted
as dropped (`overflow`), never stored. Nothing here raises into the caller.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

GRID_STEPS = 8  # buckets per doubling: OpenTelemetry exponential histogram scale 3
ZERO_BUCKET = -(2**31)
BATCH_VERSION = 1
DEFAULT_MAX_KEYS = 2000


def bucket_of(seconds: float) -> int:
    if seconds <= 0:
        return ZERO_BUCKET
    return math.ceil(math.log2(seconds) * GRID_STEPS - 1e-9)


@dataclass(slots=True)
class Stats:
    count: int = 0
    seconds: float = 0.0
    slowest: float = 0.0
    bytes: int = 0
    buckets: dict[int, int] = field(default_factory=dict)
    subrequests: int = 0
    errors: int = 0

    def add(self, seconds: float, nbytes: int) -> None:
        self.count += 1
        self.seconds += seconds
        if seconds > self.slowest:
            self.slowest = seconds
        self.bytes += nbytes
        key = bucket_of(seconds)
        self.buckets[key] = self.buckets.get(key, 0) + 1

    def row(self) -> list[Any]:
        return [
            self.count,
            round(self.seconds, 6),
            round(self.slowest, 6),
            self.bytes,
            [[k, n] for k, n in sorted(self.buckets.items())],
        ]


class Recorder:
    """What one Worker isolate observed since the last flush."""

    def __init__(self, worker: str, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        self.worker = worker
        self.max_keys = max_keys
        self.ops: dict[tuple[int, str, str, str, str], Stats] = {}
        self.invocations: dict[tuple[int, str, str], Stats] = {}
        self.dropped: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self.ops) + len(self.invocations)

    def op(
        self, t: float, kind: str, binding: str, op: str, outcome: str, seconds: float, nbytes: int
    ) -> None:
        key = (_minute_ms(t), kind, binding, op, outcome)
        stats = self.ops.get(key)
        if stats is None:
            if len(self) >= self.max_keys:
                self.dropped["overflow"] += 1
                return
            stats = self.ops[key] = Stats()
        stats.add(seconds, nbytes)

    def invocation(
        self, t: float, status: int, colo: str, seconds: float, subrequests: int
    ) -> None:
        key = (_minute_ms(t), f"{status // 100}xx", colo)
        stats = self.invocations.get(key)
        if stats is None:
            if len(self) >= self.max_keys:
                self.dropped["overflow"] += 1
                return
            stats = self.invocations[key] = Stats()
        stats.add(seconds, 0)
        stats.subrequests += subrequests
        stats.errors += status >= 500

    def drain(self) -> dict[str, Any] | None:
        """The batch to ship (RPC-safe: dicts, lists, str, int, float), or None if empty."""
        if not self.ops and not self.invocations and not self.dropped:
            return None
        batch = {
            "version": BATCH_VERSION,
            "worker": self.worker,
            "ops": [[*key, *stats.row()] for key, stats in self.ops.items()],
            "invocations": [
                [*key, *stats.row(), stats.subrequests, stats.errors]
                for key, stats in self.invocations.items()
            ],
            "dropped": dict(self.dropped),
        }
        self.ops, self.invocations, self.dropped = {}, {}, Counter()
        return batch


def _minute_ms(t: float) -> int:
    return int(t // 60) * 60_000
