"""Live tail over Server-Sent Events: new matching records only, resumable by Last-Event-ID."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import httpx
import pytest

from tests.workers.logs.helpers import READ, ingest

pytestmark = pytest.mark.anyio


def events(body: str) -> list[dict[str, Any]]:
    found = []
    for block in body.split("\n\n"):
        fields = dict(
            line.split(": ", 1)
            for line in block.splitlines()
            if ": " in line and not line.startswith(":")
        )
        if fields.get("event") == "log":
            record = json.loads(fields["data"])
            assert fields["id"] == record["id"]
            found.append(record)
    return found


async def listening() -> None:
    """Until the tail (in the Worker's own copy of the module) has subscribed."""
    hub = sys.modules["logs.tail"].hub
    for _ in range(100_000):
        if hub.listeners:
            return
        await asyncio.sleep(0)  # a turn of the event loop, not time
    raise AssertionError("the tail never subscribed")


async def test_a_tail_streams_only_new_matching_records(http: httpx.AsyncClient) -> None:
    await ingest(http, [{"message": "old error", "service": "api", "level": "error"}])
    tail = asyncio.create_task(
        http.get("/logs/tail", params={"level": "error", "max_events": 2}, headers=READ)
    )
    await listening()
    await ingest(
        http,
        [
            {"message": "fresh info", "service": "api"},
            {"message": "fresh error", "service": "api", "level": "error"},
            {"message": "fresh fatal", "service": "web", "level": "fatal"},
        ],
    )
    reply = await asyncio.wait_for(tail, timeout=30)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert reply.text.startswith("retry: 2000\n\n")
    assert sorted(r["message"] for r in events(reply.text)) == ["fresh error", "fresh fatal"]


async def test_a_backlog_comes_first_and_last_event_id_resumes(http: httpx.AsyncClient) -> None:
    await ingest(
        http,
        [
            {"message": f"m{i}", "service": "api", "timestamp": i + 1_795_773_590_000}
            for i in range(4)
        ],
    )
    first = await http.get("/logs/tail", params={"backlog": 4, "max_events": 4}, headers=READ)
    records = events(first.text)
    assert [r["message"] for r in records] == ["m0", "m1", "m2", "m3"]
    resumed = await http.get(
        "/logs/tail",
        params={"backlog": 4, "max_events": 2},
        headers={**READ, "last-event-id": records[1]["id"]},
    )
    assert [r["message"] for r in events(resumed.text)] == ["m2", "m3"]


async def test_tail_parameters_are_checked(shared_http: httpx.AsyncClient) -> None:
    http = shared_http
    assert (await http.get("/logs/tail", params={"q": "("}, headers=READ)).status_code == 400
    assert (await http.get("/logs/tail", params={"max_events": 0}, headers=READ)).status_code == 422
    assert (await http.get("/logs/tail")).status_code == 401
