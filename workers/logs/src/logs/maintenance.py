"""The hourly cron: archive closed hours of every shard, apply both retentions.

Shards come from the catalog. A shard whose bucket ended before the hot retention cutoff and
whose rows are all archived and expired is dropped from the catalog and erased.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from logs.archive import Policy, expire_objects
from logs.ingestion import store_for
from logs.settings import settings_for

log = logging.getLogger("logs.maintenance")


async def hourly(env: Any, now_ms: int) -> dict[str, int]:
    settings = settings_for(env)
    store = store_for(env, settings)
    placement = store.placement
    shards = await store.shards(0, now_ms)
    calls = []
    for bucket, slot in shards:
        shard = placement.name(bucket, slot).removeprefix("logs:").replace(":", "-")
        policy = Policy(settings.hot_retention_ms, slot, shard)
        calls.append(store.stub(bucket, slot).archive(now_ms, policy.as_dict()))
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    totals = {"shards": len(calls), "objects": 0, "archived": 0, "expired": 0, "failed": 0}
    cutoff = now_ms - settings.hot_retention_ms
    emptied: list[list[int]] = []
    for (bucket, slot), outcome in zip(shards, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            totals["failed"] += 1  # retried next hour: parts are idempotent
            log.error("archiving shard %s failed: %s", placement.name(bucket, slot), outcome)
            continue
        for key in ("objects", "archived", "expired"):
            totals[key] += int(outcome[key])
        # A shard whose bucket ended before the retention cutoff can take no new rows.
        if not outcome["remaining"] and (bucket + 1) * placement.bucket_ms <= cutoff:
            emptied.append([bucket, slot])
    if emptied:
        await store.catalog.forget(emptied)
        await asyncio.gather(*(store.stub(bucket, slot).drop() for bucket, slot in emptied))
    totals["shards_dropped"] = len(emptied)
    totals["objects_deleted"] = await expire_objects(
        env.ARCHIVE, now_ms, settings.archive_retention_ms
    )
    return totals
