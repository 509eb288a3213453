"""The Worker's side of the time-series store: which shard, and RPC to it.

Series live in `SHARDS` Durable Objects of the `MetricsShard` class (binding `METRICS`), named
`shard-0`...; a metric family always lives on the shard its name hashes to, so a query for one
metric reads one object, and writes spread over all of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from infra.samples import SHARDS, Batch, shard_of

BINDING = "METRICS"


class StoreUnavailable(Exception):
    """The shards cannot be reached (binding missing or the object failed)."""


def shard(env: Any, index: int) -> Any:
    namespace = getattr(env, BINDING, None)
    if namespace is None:
        raise StoreUnavailable("the METRICS Durable Object binding is not configured")
    return namespace.getByName(f"shard-{index}")


async def write(env: Any, batch: Batch, now_ms: int) -> dict[str, Any]:
    """Store a batch; returns accepted/rejected counts summed over shards."""
    payloads = batch.payloads(SHARDS)
    replies = await asyncio.gather(
        *(shard(env, index).ingest(payload, now_ms) for index, payload in payloads.items())
    )
    total: dict[str, Any] = {"accepted": 0, "rejected": 0, "errors": []}
    for reply in replies:
        total["accepted"] += int(reply["accepted"])
        total["rejected"] += int(reply["rejected"])
        total["errors"].extend(e for e in reply["errors"] if e not in total["errors"])
    return total


async def query(env: Any, spec: Mapping[str, Any], now_ms: int) -> dict[str, Any]:
    """A range query; `{"error": ...}` when it cannot be answered."""
    metric = str(spec["metric"])
    result: dict[str, Any] = await shard(env, shard_of(metric)).query(dict(spec), now_ms)
    if "error" in result and metric.endswith(("_count", "_sum", "_bucket")):
        # A histogram component lives with its family, on the family's shard.
        family_shard = shard_of(metric.rsplit("_", 1)[0])
        if family_shard != shard_of(metric):
            result = await shard(env, family_shard).query(dict(spec), now_ms)
    return result


async def each(env: Any, method: str, *args: Any) -> list[Any]:
    """Call `method` on every shard, in shard order."""
    return list(
        await asyncio.gather(*(getattr(shard(env, i), method)(*args) for i in range(SHARDS)))
    )
