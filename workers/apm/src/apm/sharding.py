"""Which Durable Object holds what: span shards by trace id, stats shards by key.

Every span of a trace lands in one span shard (the trace view and the service-map edges need
parent and child side by side); the statistics of one service (or caller, database, host) land
in one stats shard, so a service's summary reads one object and a global summary a few.
Changing a count re-maps data: these numbers are part of the storage format.
"""

from __future__ import annotations

import zlib
from typing import Any

SPAN_SHARDS = 8
STATS_SHARDS = 4
SPANS_BINDING = "SPANS"
STATS_BINDING = "STATS"
CONTROL_BINDING = "CONTROL"


def span_shard(trace_id: str) -> int:
    return int(trace_id[:8], 16) % SPAN_SHARDS


def stats_shard(kind: str, a: str) -> int:
    return zlib.crc32(f"{kind}\0{a}".encode()) % STATS_SHARDS


def span_stub(env: Any, shard: int) -> Any:
    return getattr(env, SPANS_BINDING).getByName(f"spans-{shard}")


def stats_stub(env: Any, shard: int) -> Any:
    return getattr(env, STATS_BINDING).getByName(f"stats-{shard}")


def control_stub(env: Any) -> Any:
    return getattr(env, CONTROL_BINDING).getByName("control")
