"""Live tail: Server-Sent Events of new records matching a search.

A tail polls the shards of the current bucket for records of the last minute it has not sent
yet (so records that arrive a little late are still shown), oldest first. Ingest in the same
isolate wakes it at once through `hub`; records ingested elsewhere are picked up by the poll.
Each event carries the record id, so a reconnecting client (`Last-Event-ID`) resumes without
duplicates. Comments keep the connection alive; `max_events` and `duration` end the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

from logs.rows import record_id
from logs.search.request import SearchRequest
from logs.store.logstore import LogStore
from logs.store.schema import ID_SCALE
from obs_schema import host

LOOKBACK_MS = 60_000
POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
BATCH = 500


class Hub:
    """Wakes the tails of this isolate when records were stored."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Event] = set()

    def publish(self) -> None:
        for event in self._waiters:
            event.set()

    def subscribe(self) -> asyncio.Event:
        event = asyncio.Event()
        self._waiters.add(event)
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        self._waiters.discard(event)

    @property
    def listeners(self) -> int:
        return len(self._waiters)


hub = Hub()


@dataclass
class TailOptions:
    max_events: int = 10_000
    duration_s: float = 300.0
    backlog: int = 0  # send the newest N matching records first
    last_event_id: str | None = None


@dataclass
class _State:
    sent: set[str] = field(default_factory=set)
    count: int = 0
    last_id: str = ""


async def stream(
    store: LogStore, match: str | None, request: SearchRequest, options: TailOptions
) -> AsyncIterator[bytes]:
    state = _State(last_id=options.last_event_id or "")
    loop = asyncio.get_running_loop()
    ends = loop.time() + options.duration_s
    yield b"retry: 2000\n\n"
    if options.backlog:
        page, _ = await store.search(replace(request, limit=options.backlog, before=None), match)
        for record in reversed(page):
            if (chunk := _event(record, state)) is not None:
                yield chunk
    # What is already there is not news: only records stored from now on are sent.
    state.sent |= {record["id"] for record in await _fresh(store, match, request, state)}
    wake = hub.subscribe()
    try:
        keepalive = loop.time() + KEEPALIVE_SECONDS
        while state.count < options.max_events and loop.time() < ends:
            wake.clear()
            for record in await _fresh(store, match, request, state):
                if (chunk := _event(record, state)) is not None:
                    yield chunk
                if state.count >= options.max_events:
                    return
            if loop.time() >= keepalive:
                keepalive = loop.time() + KEEPALIVE_SECONDS
                yield b": keepalive\n\n"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=POLL_SECONDS)
    finally:
        hub.unsubscribe(wake)


async def _fresh(
    store: LogStore, match: str | None, request: SearchRequest, state: _State
) -> list[dict[str, Any]]:
    now = host.now_ms()
    horizon = record_id((now - LOOKBACK_MS) * ID_SCALE, 0)
    state.sent = {sent for sent in state.sent if sent >= horizon}  # older ones cannot recur
    recent = replace(request, start_ms=now - LOOKBACK_MS, end_ms=now + 1, limit=BATCH, before=None)
    page, _ = await store.search(recent, match)
    return list(reversed(page))


def _event(record: dict[str, Any], state: _State) -> bytes | None:
    key = record["id"]
    if key in state.sent or key <= state.last_id:
        return None
    state.sent.add(key)
    state.count += 1
    data = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
    return f"id: {key}\nevent: log\ndata: {data}\n\n".encode()
