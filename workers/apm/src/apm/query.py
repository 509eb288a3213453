"""Reads that fan out to the shards and merge what they answer."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from apm.sharding import SPAN_SHARDS, STATS_SHARDS, span_shard, span_stub, stats_shard, stats_stub
from apm.statstore import Total, merge_into
from apm.window import Window
from obs_schema.sketch import Sketch

Totals = dict[tuple[str, str], Total]


async def totals(env: Any, kind: str, win: Window, a: str | None = None) -> Totals:
    """Per `(a, b)` key of `kind`: the total over the window (one shard when `a` is known)."""
    shards = [stats_shard(kind, a)] if a is not None else range(STATS_SHARDS)
    replies = await asyncio.gather(
        *(stats_stub(env, n).totals(kind, win.start, win.end, win.hourly, a) for n in shards)
    )
    merged: Totals = {}
    for reply in replies:
        for key_a, key_b, count, errors, blob in reply:
            total = Total(int(count), int(errors), Sketch.from_bytes(bytes(blob)))
            merge_into(merged, (key_a, key_b), total)
    return merged


async def described(
    env: Any, kind: str, win: Window, a: str | None = None, apdex_t: float | None = None
) -> tuple[list[list[Any]], list[list[Any]]]:
    """`[a, b, numbers]` per key and `[a, numbers]` per group, computed in the stats shards."""
    shards = [stats_shard(kind, a)] if a is not None else range(STATS_SHARDS)
    replies = await asyncio.gather(
        *(
            stats_stub(env, n).describe(kind, win.start, win.end, win.hourly, a, apdex_t)
            for n in shards
        )
    )
    parsed = [json.loads(reply) for reply in replies]
    keys = [row for reply in parsed for row in reply["keys"]]
    groups = [row for reply in parsed for row in reply["groups"]]
    return keys, groups


async def summary(
    env: Any, win: Window, service: str | None, apdex_t: float
) -> tuple[list[list[Any]], list[list[Any]]]:
    """`[requests, service, route, json]` per route and `[service, json]` per service."""
    shards = [stats_shard("route", service)] if service is not None else range(STATS_SHARDS)
    replies = await asyncio.gather(
        *(
            stats_stub(env, n).summary(win.start, win.end, win.hourly, service, apdex_t)
            for n in shards
        )
    )
    parsed = [json.loads(reply) for reply in replies]
    routes = [row for reply in parsed for row in reply["routes"]]
    services = [row for reply in parsed for row in reply["services"]]
    return routes, services


async def series(
    env: Any, kind: str, a: str, b: str | None, win: Window, step: int
) -> list[tuple[int, Total]]:
    reply = await stats_stub(env, stats_shard(kind, a)).series(
        kind, a, b, win.start, win.end, step, win.hourly
    )
    buckets = {
        int(minute): Total(int(count), int(errors), Sketch.from_bytes(bytes(blob)))
        for minute, count, errors, blob in reply
    }
    return [(m, buckets.get(m) or Total()) for m in range(win.start, win.end, step)]


async def examples(
    env: Any, kind: str, a: str, b: str | None, win: Window, limit: int
) -> list[dict[str, Any]]:
    stub = stats_stub(env, stats_shard(kind, a))
    return list(await stub.examples(kind, a, b, win.start, win.end, limit))


async def all_examples(env: Any, kind: str, win: Window, limit: int) -> list[dict[str, Any]]:
    replies = await asyncio.gather(
        *(
            stats_stub(env, n).examples(kind, None, None, win.start, win.end, limit)
            for n in range(STATS_SHARDS)
        )
    )
    return [example for reply in replies for example in reply]


async def trace(env: Any, trace_id: str) -> dict[str, Any] | None:
    reply = await span_stub(env, span_shard(trace_id)).trace(trace_id)
    return reply if reply else None


async def search(env: Any, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Newest first across every span shard: each returns its newest `limit`, merged here."""
    replies = await asyncio.gather(*(span_stub(env, n).search(query) for n in range(SPAN_SHARDS)))
    found = [row for reply in replies for row in reply]
    found.sort(key=lambda row: (row["start_ns"], row["trace_id"]), reverse=True)
    return found[: int(query["limit"])]


async def repeats(
    env: Any, since_ns: int, until_ns: int, minimum: int, limit: int
) -> list[dict[str, Any]]:
    replies = await asyncio.gather(
        *(span_stub(env, n).repeats(since_ns, until_ns, minimum, limit) for n in range(SPAN_SHARDS))
    )
    found = [row for reply in replies for row in reply]
    found.sort(key=lambda row: (row["count"], row["start_ns"]), reverse=True)
    return found[:limit]
