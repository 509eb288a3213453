"""The hourly cron on the stack: archive to R2, hot retention, then search the archive."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from localedge.clock import ManualClock
from localedge.stack import Stack
from tests.workers.logs.helpers import ADMIN, READ, T0_MS, ingest, messages, query

pytestmark = pytest.mark.anyio
HOUR = 3600
DAY = 86400


async def archive_keys(stack: Stack) -> list[str]:
    page = await stack.r2["obs-logs-archive"].list(prefix="logs/")
    return [obj.key for obj in page["objects"]]


async def test_the_cron_archives_closed_hours_and_expires_past_retention(
    http: httpx.AsyncClient, stack: Stack, clock: ManualClock
) -> None:
    # Two batches: two shards (each batch goes to the next slot).
    await ingest(http, [{"message": "pitch 7 published", "service": "api", "level": "info"}])
    await ingest(http, [{"message": "payment declined", "service": "billing", "level": "error"}])
    clock.advance(HOUR)
    assert await stack.trigger_cron("7 * * * *") == ["obs-logs"]
    keys = await archive_keys(stack)
    assert len(keys) == 2 and all(k.startswith("logs/2026/11/27/10/24h-") for k in keys)
    assert len((await query(http))["logs"]) == 2  # archived, still hot

    clock.advance(7 * DAY)
    await stack.trigger_cron("7 * * * *")
    assert (await query(http, since="30d"))["logs"] == []  # gone from the hot store
    found = await query(http, since="30d", archive="true", q="declined")
    assert messages(found) == ["payment declined"]
    assert found["logs"][0]["timestamp"] == "2026-11-27T10:00:00.000Z"
    first = await query(http, since="30d", archive="true", limit=1)
    rest = await query(http, since="30d", archive="true", cursor=first["next_cursor"])
    assert sorted(messages(first) + messages(rest)) == ["payment declined", "pitch 7 published"]
    assert rest["next_cursor"] is None

    clock.advance(2 * DAY)  # the bucket ended before the retention cutoff: the shard goes
    catalog = stack.worker("obs-logs").env.LOG_CATALOG.getByName("catalog")
    assert len(await catalog.existing(0, 10**9)) == 2
    await stack.trigger_cron("7 * * * *")
    assert await catalog.existing(0, 10**9) == []

    clock.advance(366 * DAY)
    await stack.trigger_cron("7 * * * *")
    assert await archive_keys(stack) == []  # archive retention


async def test_archive_search_answers_like_the_hot_store(
    http: httpx.AsyncClient, stack: Stack, clock: ManualClock
) -> None:
    records = [
        {
            "message": f"order {i} {'declined' if i % 3 else 'paid'}",
            "service": f"s{i % 4}",
            "level": "error" if i % 2 else "info",
            "timestamp": T0_MS - i * 60_000,
            "attributes": {"region": "eu" if i % 5 else "us"},
        }
        for i in range(30)
    ]
    await ingest(http, records)
    clock.advance(HOUR)
    await stack.trigger_cron("7 * * * *")
    for params in (
        {"q": "declined"},
        {"level": "error", "service": "s1,s3"},
        {"attr.region": "us"},
        {"q": "order NOT paid", "until": "45m"},
    ):
        hot = await query(http, since="2h", limit=100, **params)
        archived = await query(http, since="2h", limit=100, archive="true", **params)
        assert archived == hot and hot["logs"], params


async def test_an_archive_search_window_is_capped(shared_http: httpx.AsyncClient) -> None:
    reply = await shared_http.get(
        "/logs/query", params={"archive": "true", "since": "60d"}, headers=READ
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["message"] == "since: an archive search covers at most 31 days"


async def test_admins_can_run_the_archive_on_demand(
    http: httpx.AsyncClient, stack: Stack, clock: ManualClock, data_dir: Path
) -> None:
    await ingest(http, [{"message": "x", "service": "api"}])
    clock.advance(HOUR)
    reply = await http.post("/logs/archive", headers=ADMIN)
    assert reply.status_code == 200
    assert reply.json() == {
        "shards": 1,
        "objects": 1,
        "archived": 1,
        "expired": 0,
        "failed": 0,
        "shards_dropped": 0,
        "objects_deleted": 0,
    }
    assert (await http.post("/logs/archive", headers=READ)).status_code == 403
