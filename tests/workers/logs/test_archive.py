"""Archiving one shard into a real local R2 bucket: parts, idempotence, late rows, retention."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localedge.clock import ManualClock
from localedge.r2 import R2Bucket
from localedge.storage import DurableObjectStorage
from logs.archive import Policy, archive_shard, decode, expire_objects, list_keys
from logs.rows import shard_batch
from logs.store.shardarchive import ShardArchive
from logs.store.shardcore import ShardCore

pytestmark = pytest.mark.anyio

HOUR = 3600_000
T = 1_795_773_600_000  # 2026-11-27T10:00:00Z, an hour boundary
POLICY = Policy(hot_retention_ms=7 * 86400_000, slot=3, shard="24h-20784-3")


def _rows(reply: str) -> list[list[Any]]:
    return list(json.loads(reply))


def row(ts: int, message: str) -> list[Any]:
    return [ts, ts, 2, "api", None, None, "f" * 16, message, None, "http", "local"]


@pytest.fixture
def bucket(tmp_path: Path) -> Iterator[R2Bucket]:
    opened = R2Bucket(tmp_path / "r2", ManualClock(T / 1000))
    yield opened
    opened.close()


async def keys(bucket: R2Bucket, prefix: str = "logs/") -> list[str]:
    return [key async for key in list_keys(bucket, prefix)]


async def archived(bucket: R2Bucket) -> list[str]:
    found = []
    for key in await keys(bucket):
        obj = await bucket.get(key)
        assert obj is not None
        found += [record["message"] for record in decode(bytes(await obj.arrayBuffer()))]
    return found


async def test_closed_hours_become_gzip_ndjson_partitions(
    storage: DurableObjectStorage, bucket: R2Bucket
) -> None:
    core, parts = ShardCore(storage.sql), ShardArchive(storage.sql)
    core.insert(
        shard_batch([row(T - 2 * HOUR + 5, "a"), row(T - HOUR + 7, "b"), row(T + 1, "now")])
    )
    outcome = await archive_shard(parts, bucket, POLICY, T + 10 * 60_000)
    assert outcome == {"objects": 2, "archived": 2, "expired": 0, "remaining": 1}
    assert await keys(bucket) == [
        "logs/2026/11/27/08/24h-20784-3-00000001.ndjson.gz",
        "logs/2026/11/27/09/24h-20784-3-00000002.ndjson.gz",
    ]
    obj = await bucket.get("logs/2026/11/27/09/24h-20784-3-00000002.ndjson.gz")
    assert obj is not None and obj.httpMetadata["contentEncoding"] == "gzip"
    (record,) = decode(bytes(await obj.arrayBuffer()))
    assert record["message"] == "b" and record["timestamp"] == "2026-11-27T09:00:00.007Z"
    assert record["id"].endswith("03")  # the record id names its slot
    assert parts.counts() == {"records": 3, "unarchived": 1, "pending": 0}  # hot rows stay


async def test_rerunning_after_a_crash_neither_loses_nor_duplicates(
    storage: DurableObjectStorage, bucket: R2Bucket
) -> None:
    core, parts = ShardCore(storage.sql), ShardArchive(storage.sql)
    core.insert(shard_batch([row(T - HOUR + i, f"m{i}") for i in range(5)]))

    class Crashing:
        async def put(self, *args: Any, **kwargs: Any) -> None:
            await bucket.put(*args, **kwargs)
            raise ConnectionError("lost the answer")  # written, but never marked uploaded

    with pytest.raises(ConnectionError):
        await archive_shard(parts, Crashing(), POLICY, T)
    assert parts.counts()["pending"] == 1
    await archive_shard(parts, bucket, POLICY, T)
    await archive_shard(parts, bucket, POLICY, T + HOUR)
    assert sorted(await archived(bucket)) == [f"m{i}" for i in range(5)]
    assert len(await keys(bucket)) == 1


async def test_late_rows_of_an_archived_hour_become_a_new_part(
    storage: DurableObjectStorage, bucket: R2Bucket
) -> None:
    core, parts = ShardCore(storage.sql), ShardArchive(storage.sql)
    core.insert(shard_batch([row(T - HOUR, "on time")]))
    await archive_shard(parts, bucket, POLICY, T)
    core.insert(shard_batch([row(T - HOUR + 1, "late")]))
    await archive_shard(parts, bucket, POLICY, T + 60_000)
    assert sorted(await archived(bucket)) == ["late", "on time"]
    assert len(await keys(bucket, "logs/2026/11/27/09/")) == 2


async def test_rows_leave_the_hot_store_only_archived_and_past_retention(
    storage: DurableObjectStorage, bucket: R2Bucket
) -> None:
    core, parts = ShardCore(storage.sql), ShardArchive(storage.sql)
    core.insert(shard_batch([row(T - HOUR, "old"), row(T + HOUR, "newer")]))
    later = T + POLICY.hot_retention_ms + 30 * 60_000
    outcome = await archive_shard(parts, bucket, POLICY, later)
    assert outcome["expired"] == 1 and outcome["archived"] == 2
    assert [r[8] for r in _rows(core.search({"lo": 0, "hi": 2**62, "limit": 10}))] == ["newer"]
    assert (
        _rows(core.search({"lo": 0, "hi": 2**62, "limit": 10, "match": '"old"'})) == []
    )  # FTS too
    assert sorted(await archived(bucket)) == ["newer", "old"]


async def test_parts_are_cut_at_the_part_size(
    storage: DurableObjectStorage, bucket: R2Bucket
) -> None:
    core, parts = ShardCore(storage.sql), ShardArchive(storage.sql)
    core.insert(shard_batch([row(T - HOUR + i, f"m{i}") for i in range(25)]))
    assert parts.assign(T, part_rows=10) == 3
    assert [part.rows for part in parts.pending()] == [10, 10, 5]


async def test_partitions_past_the_archive_retention_are_deleted(bucket: R2Bucket) -> None:
    days = ("2024/02/29", "2025/10/01", "2025/11/26", "2025/11/27", "2026/01/05")
    for day in days:
        for hour in ("00", "23"):
            await bucket.put(f"logs/{day}/{hour}/24h-1-0-00000001.ndjson.gz", b"x")
    deleted = await expire_objects(bucket, T, retention_ms=365 * 86400_000)
    assert deleted == 6
    assert [key[5:15] for key in await keys(bucket)] == ["2025/11/27"] * 2 + ["2026/01/05"] * 2
