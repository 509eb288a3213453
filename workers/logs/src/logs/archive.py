"""The archive in R2: gzip NDJSON partitions `logs/YYYY/MM/DD/HH/<shard>-<part>.ndjson.gz`.

`archive_shard` runs inside a LogShard (its hourly RPC): closed hours' rows become parts, each
part one object (deterministic bytes: gzip without a timestamp), then uploaded parts' rows
older than the hot retention leave the hot store. `expire_objects` deletes partitions older
than the archive retention. Lines are the records exactly as `GET /logs/query` answers them.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from logs import rows as rowsmod
from logs.store.shardarchive import HOUR_MS, Part, ShardArchive

PREFIX = "logs/"
STATS_RETENTION_MS = 35 * 86400_000


@dataclass(frozen=True)
class Policy:
    hot_retention_ms: int
    slot: int
    shard: str  # "24h-20419-3": the shard's place, part of every object key

    def as_dict(self) -> dict[str, Any]:
        return {"hot_retention_ms": self.hot_retention_ms, "slot": self.slot, "shard": self.shard}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        return cls(int(data["hot_retention_ms"]), int(data["slot"]), str(data["shard"]))


def hour_prefix(hour: int) -> str:
    moment = datetime.fromtimestamp(hour * 3600, UTC)
    return f"{PREFIX}{moment:%Y/%m/%d/%H}/"


def day_prefix(day_start_ms: int) -> str:
    return f"{PREFIX}{datetime.fromtimestamp(day_start_ms / 1000, UTC):%Y/%m/%d}/"


def object_key(part: Part, shard: str) -> str:
    return f"{hour_prefix(part.hour)}{shard}-{part.id:08d}.ndjson.gz"


def encode(rows: list[list[Any]], slot: int) -> bytes:
    lines = "".join(
        json.dumps(rowsmod.to_json(row, slot), separators=(",", ":"), ensure_ascii=False) + "\n"
        for row in rows
    )
    return gzip.compress(lines.encode(), compresslevel=6, mtime=0)


def decode(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(body).splitlines() if line.strip()]


async def archive_shard(
    archive: ShardArchive, bucket: Any, policy: Policy, now_ms: int
) -> dict[str, int]:
    """Archive every closed hour of one shard, then expire what the hot store no longer keeps."""
    archive.assign(closed_before_ms=now_ms - now_ms % HOUR_MS)
    objects = records = 0
    for part in archive.pending():
        rows = archive.rows_of(part)
        key = object_key(part, policy.shard)
        await bucket.put(
            key,
            encode(rows, policy.slot),
            httpMetadata={"contentType": "application/x-ndjson", "contentEncoding": "gzip"},
            customMetadata={"records": str(len(rows)), "shard": policy.shard},
        )
        archive.uploaded(part, key)
        objects += 1
        records += len(rows)
    expired = archive.expire(
        now_ms - policy.hot_retention_ms, now_ms - max(STATS_RETENTION_MS, policy.hot_retention_ms)
    )
    remaining = int(archive.has_rows())
    return {"objects": objects, "archived": records, "expired": expired, "remaining": remaining}


async def expire_objects(bucket: Any, now_ms: int, retention_ms: int) -> int:
    """Delete every partition of a day that ended before the archive retention cutoff.

    Days are found by walking `logs/YYYY/`, `logs/YYYY/MM/` with a delimiter (a few listings),
    so a run after a long pause catches up on everything it missed.
    """
    cutoff_day = day_prefix(now_ms - retention_ms)
    deleted = 0
    for year in await _children(bucket, PREFIX):
        if year > cutoff_day[: len(year)]:
            continue
        for month in await _children(bucket, year):
            if month > cutoff_day[: len(month)]:
                continue
            for day in await _children(bucket, month):
                if day >= cutoff_day:
                    continue
                keys = [key async for key in list_keys(bucket, day)]
                for start in range(0, len(keys), 1000):
                    await bucket.delete(keys[start : start + 1000])
                deleted += len(keys)
    return deleted


async def _children(bucket: Any, prefix: str) -> list[str]:
    """The next level of "folders" under `prefix` (R2's delimitedPrefixes)."""
    found: list[str] = []
    cursor = None
    while True:
        options: dict[str, Any] = {"prefix": prefix, "delimiter": "/"}
        if cursor:
            options["cursor"] = cursor
        page = await bucket.list(**options)
        found += list(page.get("delimitedPrefixes") or [])
        if not page.get("truncated"):
            return sorted(found)
        cursor = page["cursor"]


async def list_keys(bucket: Any, prefix: str) -> Any:
    """Every key under `prefix`, following R2's pagination."""
    cursor = None
    while True:
        page = (
            await bucket.list(prefix=prefix, cursor=cursor)
            if cursor
            else await bucket.list(prefix=prefix)
        )
        for item in page["objects"]:
            yield item.key if hasattr(item, "key") else item["key"]
        if not page.get("truncated"):
            return
        cursor = page["cursor"]
