"""Ingest: decoded spans into their span shards, then their statistics into the stats shards.

One RPC per span shard carries every row of the batch for it (chunks of rows: their plain
columns as one JSON array, their JSON columns as one NUL-joined string; one Durable Object
event per shard per batch); the shards answer which rows
were new and which cross-service edges they completed, and only then are the statistics sent,
so a retried export is not counted twice. Every RPC is awaited before the client is answered:
an acknowledged span is committed.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from apm import rows
from apm.rows import Facts
from apm.sharding import span_shard, span_stub, stats_stub
from apm.stats import Collector
from obs_schema.otlp.traces import TraceSpan

CHUNK_ROWS = 512
MAX_CHUNK_BYTES = 1_800_000  # a bound string may not exceed 2 MB in Durable Object SQLite
MAX_ROW_BYTES = 1_000_000


@dataclass
class Outcome:
    accepted: int = 0
    duplicates: int = 0
    too_large: list[int] = field(default_factory=list)  # positions (in `spans`) refused


@dataclass
class _Shard:
    rows: list[list[Any]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # `rows.TEXT_COLUMNS` per row
    # Parallel lists, not a tuple per span: fewer objects alive through the RPCs, which the
    # garbage collector would otherwise walk again and again.
    spans: list[TraceSpan] = field(default_factory=list)
    facts: list[Facts] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)  # of each span in the request
    refused: set[int] = field(default_factory=set)  # positions here of spans too large
    resources: dict[str, str] = field(default_factory=dict)


async def ingest(env: Any, spans: list[TraceSpan], now_ms: int) -> Outcome:
    shards: dict[int, _Shard] = {}
    resource_ids: dict[int, tuple[str, str]] = {}
    for position, span in enumerate(spans):
        derived = rows.facts(span)
        resource = resource_ids.get(id(span.resource))
        if resource is None:
            resource = resource_ids[id(span.resource)] = rows.resource_id(span.resource)
        number = span_shard(span.trace_id)
        shard = shards.get(number)
        if shard is None:  # not setdefault: it would build (and drop) a _Shard per span
            shard = shards[number] = _Shard()
        shard.rows.append(rows.row(span, derived, resource[0]))
        shard.texts += rows.texts(span)
        shard.spans.append(span)
        shard.positions.append(position)
        shard.facts.append(derived)
        shard.resources[resource[0]] = resource[1]
    outcome = Outcome()
    collector = Collector()
    replies = await asyncio.gather(
        *(_store(env, number, shard, now_ms, outcome) for number, shard in shards.items())
    )
    for shard, reply in zip(shards.values(), replies, strict=True):
        _collect(collector, shard, reply)
        outcome.duplicates += int(reply["duplicates"])
    outcome.accepted = len(spans) - outcome.duplicates - len(outcome.too_large)
    await asyncio.gather(
        *(
            stats_stub(env, number).record(entries)
            for number, entries in collector.by_shard().items()
        )
    )
    return outcome


async def _store(env: Any, number: int, shard: _Shard, now_ms: int, outcome: Outcome) -> Any:
    chunks = list(_chunks(shard, outcome))
    resources = [[key, text] for key, text in shard.resources.items()]
    return await span_stub(env, number).ingest(chunks, resources, now_ms)


def _chunks(shard: _Shard, outcome: Outcome) -> Any:
    for start in range(0, len(shard.rows), CHUNK_ROWS):
        yield from _fitting(shard, start, min(start + CHUNK_ROWS, len(shard.rows)), outcome)


def _fitting(shard: _Shard, start: int, end: int, outcome: Outcome) -> Any:
    text = json.dumps(shard.rows[start:end], separators=(",", ":"))
    width = rows.TEXT_COLUMNS
    packed = rows.TEXT_SEPARATOR.join(shard.texts[start * width : end * width])
    if len(text) + len(packed) <= MAX_CHUNK_BYTES:
        # `[trace, span, is_db]` per row (`rows.COLUMNS` 0, 1 and 11)
        ids = [[row[0], row[1], 1 if row[11] else 0] for row in shard.rows[start:end]]
        databases = any(row[2] for row in ids)
        yield [text, json.dumps(ids, separators=(",", ":")), end - start, databases, packed]
    elif end - start > 1:
        middle = (start + end) // 2
        yield from _fitting(shard, start, middle, outcome)
        yield from _fitting(shard, middle, end, outcome)
    else:  # one span alone is too big to store: refused, and not counted in statistics
        outcome.too_large.append(shard.positions[start])
        shard.refused.add(start)


def _collect(collector: Collector, shard: _Shard, reply: dict[str, Any]) -> None:
    new = set(reply["new"]) if reply["duplicates"] else None
    for position, (span, derived) in enumerate(zip(shard.spans, shard.facts, strict=True)):
        if position in shard.refused or (
            new is not None and span.trace_id + span.span_id not in new
        ):
            continue
        key = (span.start_ns, span.end_ns, derived.error, span.trace_id, span.span_id)
        if derived.entry:
            collector.add("route", span.service, derived.route, *key)
            # Pre-aggregated per service, so a summary reads one key, not every route merged.
            collector.add("route", span.service, rows.ALL_ROUTES, *key)
        if derived.colo:
            collector.add("colo", derived.colo, "", *key)
        if derived.fingerprint:
            collector.add("db", derived.db_system or "unknown", derived.fingerprint, *key)
        if derived.peer:
            collector.add("http", derived.peer, "", *key)
    for caller, callee, start_ns, end_ns, error, trace_id, span_id in reply["edges"]:
        collector.add("edge", caller, callee, start_ns, end_ns, bool(error), trace_id, span_id)
