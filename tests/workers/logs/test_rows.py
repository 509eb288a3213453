"""What a batch sends its shards: chunks within the size bound, per-minute counts, buckets."""

from __future__ import annotations

import json
from typing import Any

from logs.rows import MAX_CHUNK_BYTES, shard_batch
from logs.store.logstore import LogStore
from logs.store.placement import Placement

T = 1_795_773_600_000
HOUR = 3600_000


def row(
    ts: int, message: str = "m", *, level: int = 2, service: str = "api", **shared: Any
) -> list[Any]:
    received, source, edge = shared.get("received", T), shared.get("source", "http"), "e"
    attributes = shared.get("attributes")
    return [ts, received, level, service, None, None, "f" * 16, message, attributes, source, edge]


def reference_parts(rows: list[list[Any]]) -> list[list[list[Any]]]:
    """The size rule row by row: a chunk closes before the row that would take it over."""
    parts: list[list[list[Any]]] = [[]]
    size = 2
    for item in rows:
        row_size = len(item[7]) * 2 + len(item[8] or "") * 2 + 200
        if size + row_size > MAX_CHUNK_BYTES and parts[-1]:
            parts.append([])
            size = 2
        parts[-1].append(item)
        size += row_size
    return [part for part in parts if part]


def chunk_rows(batch: dict[str, Any]) -> list[list[Any]]:
    return [json.loads(chunk["rows"]) for chunk in batch["chunks"]]


def as_chunk_rows(rows: list[list[Any]]) -> list[Any]:
    return [[r[0], r[2], r[3], r[4], r[5], r[6], r[7], r[8]] for r in rows]


def test_a_small_batch_is_one_chunk() -> None:
    rows = [row(T + i, f"m {i}", attributes='{"k":1}' if i % 2 else None) for i in range(50)]
    assert chunk_rows(shard_batch(rows)) == [as_chunk_rows(rows)]


def test_big_batches_split_where_the_size_rule_says() -> None:
    big = "x" * 200_000
    rows = [
        row(T + i, big if i % 3 else "small", attributes="[" + "1," * 9000 + "1]")
        for i in range(12)
    ]
    expected = [as_chunk_rows(part) for part in reference_parts(rows)]
    assert len(expected) > 1
    assert chunk_rows(shard_batch(rows)) == expected


def test_rows_of_several_receipts_are_chunked_apart_in_order_of_appearance() -> None:
    rows = [
        row(T, "a"),
        row(T + 1, "b", source="otlp"),
        row(T + 2, "c"),
        row(T + 3, "d", received=T + 9),
    ]
    batch = shard_batch(rows)
    shared = [(c["received"], c["source"], c["edge"]) for c in batch["chunks"]]
    assert shared == [(T, "http", "e"), (T, "otlp", "e"), (T + 9, "http", "e")]
    assert chunk_rows(batch) == [
        as_chunk_rows([rows[0], rows[2]]),
        as_chunk_rows([rows[1]]),
        as_chunk_rows([rows[3]]),
    ]


def test_stats_count_per_minute_level_and_service_in_order_of_appearance() -> None:
    rows = [
        row(T + 61_000, service="b"),
        row(T),
        row(T + 5, level=5),
        row(T + 7),
        row(T + 61_001, service="b"),
    ]
    batch = shard_batch(rows)
    minute = T // 60000
    assert json.loads(batch["stats"]) == [
        [minute + 1, 2, "b", 2],
        [minute, 2, "api", 2],
        [minute, 5, "api", 1],
    ]
    assert batch["first_ms"] == T


def test_a_batch_goes_to_one_shard_per_bucket() -> None:
    store = LogStore(None, None, Placement(4, HOUR))
    bucket = T // HOUR
    same = [row(T + 5), row(T), row(T + HOUR - T % HOUR - 1)]
    assert store._by_bucket(same, 2) == {(bucket, 2): same}
    mixed = [row(T), row(T - HOUR), row(T + 1), row(T + HOUR)]
    assert store._by_bucket(mixed, 1) == {
        (bucket, 1): [mixed[0], mixed[2]],
        (bucket - 1, 1): [mixed[1]],
        (bucket + 1, 1): [mixed[3]],
    }
