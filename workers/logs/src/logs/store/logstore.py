"""The Worker's view of the hot store: writes fan out by placement, reads merge shards.

Reads go bucket by bucket, newest first, asking every relevant slot of a bucket at once and
stopping as soon as a page is full, so "the newest 50 errors" touches one bucket in the usual
case however long the window is.
"""

from __future__ import annotations

import asyncio
import json
import operator
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from logs import rows as rowsmod
from logs.rows import TS
from logs.search.request import SearchRequest
from logs.store import catalog, shardcore
from logs.store.placement import Placement

_ts = operator.itemgetter(TS)


@dataclass
class Page:
    documents: list[str]  # JSON objects, newest first
    last_id: str | None  # record id of the last one
    more: bool  # whether more records match past the last one


class LogStore:
    def __init__(self, namespace: Any, catalog: Any, placement: Placement) -> None:
        self.namespace = namespace
        self.catalog_namespace = catalog
        self.placement = placement

    def stub(self, bucket: int, slot: int) -> Any:
        return self.namespace.getByName(self.placement.name(bucket, slot))

    @property
    def catalog(self) -> Any:
        return self.catalog_namespace.getByName(catalog.NAME)

    # --- writing --------------------------------------------------------------------------
    async def insert(self, rows: Sequence[list[Any]]) -> int:
        """Store `rows`; every shard's part in one RPC (one event, one transaction)."""
        slot = self.placement.next_slot()
        groups = self._by_bucket(rows, slot)
        new = catalog.registry.unknown(self.catalog_namespace, set(groups))
        calls = [
            self.stub(b, s).insert(rowsmod.shard_batch(part)) for (b, s), part in groups.items()
        ]
        if new:  # listed before acknowledged, so a reader never misses a shard
            calls.append(self.catalog.register([list(pair) for pair in sorted(new)]))
        stored = await asyncio.gather(*calls)
        catalog.registry.remember(self.catalog_namespace, new)
        return sum(stored[: len(groups)])

    def _by_bucket(
        self, rows: Sequence[list[Any]], slot: int
    ) -> Mapping[tuple[int, int], Sequence[list[Any]]]:
        """The rows by (bucket, slot); a batch's timestamps mostly share one bucket, which
        its oldest and newest tell without a look at each row."""
        bucket = self.placement.bucket
        if rows and bucket(min(map(_ts, rows))) == bucket(max(map(_ts, rows))):
            return {(bucket(rows[0][TS]), slot): rows}
        groups: dict[tuple[int, int], list[list[Any]]] = defaultdict(list)
        for row in rows:
            groups[(bucket(row[TS]), slot)].append(row)
        return groups

    async def shards(self, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
        """(bucket, slot) of every shard holding rows of [start, end], newest bucket first."""
        first, last = self.placement.bucket(start_ms), self.placement.bucket(end_ms)
        return [(b, s) for b, s in await self.catalog.existing(first, last)]

    # --- reading --------------------------------------------------------------------------
    def slots_for(self, services: Sequence[str]) -> list[int]:
        """Every slot, newest-first order: any slot may hold any service (see `placement`)."""
        return list(range(self.placement.slots - 1, -1, -1))

    async def search(self, request: SearchRequest, match: str | None) -> tuple[list[Any], bool]:
        """Up to `request.limit` records, newest first, and whether more remain."""
        found = await self._found(request, match, documents=False)
        page = [rowsmod.to_json(row, slot) for _, slot, row in found[: request.limit]]
        return page, len(found) > request.limit

    async def page(self, request: SearchRequest, match: str | None) -> Page:
        """The same records as `search`, as the JSON texts the shards wrote: an answer is
        spliced from them, never decoded and encoded again."""
        found = await self._found(request, match, documents=True)
        top = found[: request.limit]
        last = rowsmod.record_id(top[-1][0], top[-1][1]) if top else None
        return Page([doc for _, _, doc in top], last, len(found) > request.limit)

    async def _found(
        self, request: SearchRequest, match: str | None, *, documents: bool
    ) -> list[tuple[int, int, Any]]:
        """(row id, slot, row or document) of the matches, newest first: more than
        `request.limit` when more remain."""
        found: list[tuple[int, int, Any]] = []
        wanted = set(self.slots_for(request.services))
        by_bucket: dict[int, list[int]] = defaultdict(list)
        for bucket, slot in await self.shards(request.start_ms, request.end_ms):
            if slot in wanted:
                by_bucket[bucket].append(slot)
        before = rowsmod.parse_record_id(request.before) if request.before else None
        for bucket in sorted(by_bucket, reverse=True):
            lo, hi = self.placement.id_range(bucket, request.start_ms, request.end_ms)
            if before is not None and lo > before[0]:
                continue
            specs = [
                (slot, spec)
                for slot in by_bucket[bucket]
                if (spec := _spec(request, match, lo, hi, slot, before, documents)) is not None
            ]
            replies = await asyncio.gather(
                *(self.stub(bucket, slot).search(spec) for slot, spec in specs)
            )
            for (slot, _), reply in zip(specs, replies, strict=True):
                if documents:
                    found += [(row_id, slot, doc) for row_id, doc in shardcore.documents(reply)]
                else:
                    found += [(row[0], slot, row) for row in json.loads(reply)]
            if len(found) > request.limit:
                break
        found.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return found

    async def trace(self, trace_id: str, start_ms: int, end_ms: int, limit: int) -> list[str]:
        """Every record of a trace in the window, oldest first, as JSON texts (see `page`)."""
        calls = [
            (slot, self.stub(bucket, slot).trace(trace_id, limit, slot))
            for bucket, slot in await self.shards(start_ms, end_ms)
        ]
        replies = await asyncio.gather(*(call for _, call in calls))
        found = [
            (row_id, slot, doc)
            for (slot, _), reply in zip(calls, replies, strict=True)
            for row_id, doc in shardcore.documents(reply)
        ]
        found.sort(key=lambda item: (item[0], item[1]))
        return [doc for _, _, doc in found[:limit]]

    async def stats(self, start_ms: int, end_ms: int) -> list[list[Any]]:
        """Per-minute counts `[minute, level, service, count]` from every shard of the window."""
        calls = [
            self.stub(bucket, slot).stats(start_ms, end_ms + 1)
            for bucket, slot in await self.shards(start_ms, end_ms)
        ]
        return [row for rows in await asyncio.gather(*calls) for row in rows]


def _spec(
    request: SearchRequest,
    match: str | None,
    lo: int,
    hi: int,
    slot: int,
    before: tuple[int, int] | None,
    documents: bool,
) -> dict[str, Any] | None:
    if before is not None:
        # Past the cursor: smaller row id, or the same row id in a lower slot.
        hi = min(hi, before[0] + 1 if slot < before[1] else before[0])
    if lo >= hi:
        return None
    return {
        "lo": lo,
        "hi": hi,
        "match": match,
        "min_level": request.min_level,
        "services": request.services,
        "trace_id": request.trace_id,
        "attrs": [[key, values] for key, values in request.attrs],
        "limit": request.limit + 1,
        "slot": slot if documents else None,
    }
