"""Reaching the shards: which Durable Object holds a key, and asking all of them at once."""

from __future__ import annotations

import asyncio
from typing import Any

from security.limit.rules import shard_of

DEFAULT_SHARDS = 16
LEDGER_NAME = "ledger"


def count(env: Any) -> int:
    try:
        return max(1, min(1024, int(getattr(env, "SECURITY_SHARDS", DEFAULT_SHARDS))))
    except (TypeError, ValueError):
        return DEFAULT_SHARDS


def stub(env: Any, index: int) -> Any:
    return env.SHARDS.getByName(f"shard-{index}")


def index_of(env: Any, key: str) -> int:
    """The shard number of `key` (a hash; no stub is made, so no id is derived)."""
    return shard_of(key, count(env))


def for_key(env: Any, key: str) -> tuple[int, Any]:
    index = index_of(env, key)
    return index, stub(env, index)


def ledger(env: Any) -> Any:
    return env.LEDGER.getByName(LEDGER_NAME)


async def all_shards(env: Any, method: str, *args: Any) -> list[Any]:
    """Call `method` on every shard concurrently; results in shard order."""
    calls = [getattr(stub(env, i), method)(*args) for i in range(count(env))]
    return list(await asyncio.gather(*calls))
