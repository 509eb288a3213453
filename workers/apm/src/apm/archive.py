"""Raw spans past the hot period go to R2 as gzip NDJSON, one object per shard, hour and batch.

Keys: `spans/YYYY/MM/DD/HH/shard-<n>-<run ms>-<batch digest>.ndjson.gz`, the hour being the
trace's start. The trace index row keeps the key, so `GET /apm/traces/{id}` still answers for an
archived trace (from R2) until the archive retention drops both. Old days go by prefix.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from apm.spanstore import SpanStore

NS_PER_MS = 1_000_000
HOT_MS = 24 * 3600 * 1000
ARCHIVE_DAYS = 30
BATCH_TRACES = 500  # bounded memory per event (128 MB isolates)
PURGE_LOOKBACK_DAYS = 7  # also sweep days a missed run would have left behind


def hour_prefix(start_ns: int) -> str:
    moment = datetime.fromtimestamp(start_ns / 1e9, tz=UTC)
    return f"spans/{moment:%Y/%m/%d/%H}/"


async def archive(store: SpanStore, bucket: Any, shard: int, now_ms: int) -> dict[str, int]:
    """Move one batch of expired traces to R2; returns what moved."""
    rows = store.expiring((now_ms - HOT_MS) * NS_PER_MS, BATCH_TRACES)
    if not rows:
        return {"traces": 0, "spans": 0, "objects": 0}
    starts: dict[str, int] = {}
    for row in rows:
        start = int(row.get("start_ns") or now_ms * NS_PER_MS)
        starts[row["trace_id"]] = min(start, starts.get(row["trace_id"], start))
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(hour_prefix(starts[row["trace_id"]]), []).append(row)
    keys: dict[str, str] = {}
    for prefix, group in groups.items():
        # One object per batch: a digest of its trace ids keeps one run's batches apart.
        digest = hashlib.sha1(usedforsecurity=False)
        for trace_id in sorted({row["trace_id"] for row in group}):
            digest.update(trace_id.encode())
        key = f"{prefix}shard-{shard}-{now_ms}-{digest.hexdigest()[:16]}.ndjson.gz"
        spans = [row for row in group if "span_id" in row]
        body = "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in spans)
        await bucket.put(
            key,
            gzip.compress(body.encode(), mtime=0),
            httpMetadata={"contentType": "application/x-ndjson", "contentEncoding": "gzip"},
        )
        keys.update({row["trace_id"]: key for row in group})
    moved = store.archived(keys)
    return {"traces": len(keys), "spans": moved, "objects": len(groups)}


async def read(bucket: Any, key: str, trace_id: str) -> list[dict[str, Any]]:
    """The archived spans of one trace."""
    found = await bucket.get(key)
    if found is None:
        return []
    text = gzip.decompress(bytes(await found.arrayBuffer())).decode()
    rows = (json.loads(line) for line in text.splitlines() if line)
    return [row for row in rows if row.get("trace_id") == trace_id]


async def purge(bucket: Any, now_ms: int) -> int:
    """Delete archive days older than the retention; returns the objects deleted."""
    today = datetime.fromtimestamp(now_ms / 1000, tz=UTC).date()
    deleted = 0
    for age in range(ARCHIVE_DAYS + 1, ARCHIVE_DAYS + 1 + PURGE_LOOKBACK_DAYS):
        day = today - timedelta(days=age)
        cursor = None
        while True:
            page = await bucket.list(prefix=f"spans/{day:%Y/%m/%d}/", cursor=cursor, limit=1000)
            keys = [obj.key for obj in page["objects"]]
            if keys:
                await bucket.delete(keys)
                deleted += len(keys)
            if not page.get("truncated"):
                break
            cursor = page.get("cursor")
    return deleted
