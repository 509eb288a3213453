"""The hourly cron: archive closed hours of every live shard, apply both retentions."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from logs.archive import Policy, expire_objects
from logs.settings import settings_for
from logs.store.placement import Placement

log = logging.getLogger("logs.maintenance")


async def hourly(env: Any, now_ms: int) -> dict[str, int]:
    settings = settings_for(env)
    placement = Placement(settings.slots, settings.bucket_ms)
    # Buckets that may still hold rows: the hot retention plus one bucket of slack.
    start = now_ms - settings.hot_retention_ms - settings.bucket_ms
    calls = []
    for bucket in placement.buckets(start, now_ms):
        for slot in range(settings.slots):
            name = placement.name(bucket, slot)
            policy = Policy(
                settings.hot_retention_ms, slot, name.replace("logs:", "").replace(":", "-")
            )
            stub = env.LOG_SHARD.getByName(name)
            calls.append(stub.archive(now_ms, policy.as_dict()))
    totals = {"shards": len(calls), "objects": 0, "archived": 0, "expired": 0, "failed": 0}
    for outcome in await asyncio.gather(*calls, return_exceptions=True):
        if isinstance(outcome, BaseException):
            totals["failed"] += 1  # retried next hour: parts are idempotent
            log.error("archiving a shard failed: %s", outcome)
            continue
        for key in ("objects", "archived", "expired"):
            totals[key] += int(outcome[key])
    totals["objects_deleted"] = await expire_objects(
        env.ARCHIVE, now_ms, settings.archive_retention_ms
    )
    return totals
