"""Search through HTTP: the seed example, filters, pagination, errors, trace, stats."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.workers.logs.helpers import MARK, READ, T0_MS, TRACE, ingest, messages, query

pytestmark = pytest.mark.anyio
HOUR = 3600_000


def record(
    message: str, service: str = "api", level: str = "info", ago_ms: int = 0, **extra: Any
) -> dict[str, Any]:
    return {
        "message": message,
        "service": service,
        "level": level,
        "timestamp": T0_MS - ago_ms,
        **extra,
    }


@pytest.fixture(scope="module")
async def seeded(shared_http: httpx.AsyncClient) -> httpx.AsyncClient:
    http = shared_http
    await ingest(
        http,
        [
            record("GET /pitches 200", ago_ms=6000),
            record(
                "payment declined for order 7",
                "billing",
                "error",
                5000,
                trace_id=TRACE,
                attributes={"http": {"status": 402}, "region": "eu"},
            ),
            record("slow render of pitch deck", "web", "warn", 4000, attributes={"region": "us"}),
            record("ledger corrupted", "billing", "fatal", 3000, trace_id=TRACE),
            record("connection timeout to db-primary", "api", "err", 2000, trace_id=TRACE),
            record("cache miss for pitch 7", "api", "debug", 1000),
            record("user alice@example.com signed in", "web", "info", 500),
            record("yesterday's error", "api", "error", 30 * HOUR),
        ],
    )
    return http


async def test_the_seed_example_returns_errors_and_worse_newest_first(
    seeded: httpx.AsyncClient,
) -> None:
    reply = await seeded.get("/logs/query?level=error&limit=50", headers=READ)
    assert reply.status_code == 200
    assert reply.json()["next_cursor"] is None
    assert [(r["level"], r["message"]) for r in reply.json()["logs"]] == [
        ("error", "connection timeout to db-primary"),
        ("fatal", "ledger corrupted"),
        ("error", "payment declined for order 7"),
        ("error", "yesterday's error"),
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"service": "billing"}, ["ledger corrupted", "payment declined for order 7"]),
        (
            {"service": "web,billing", "level": "warning"},
            ["ledger corrupted", "slow render of pitch deck", "payment declined for order 7"],
        ),
        (
            {"trace_id": TRACE.upper()},
            [
                "connection timeout to db-primary",
                "ledger corrupted",
                "payment declined for order 7",
            ],
        ),
        (
            {"q": "pitch*"},
            ["cache miss for pitch 7", "slow render of pitch deck", "GET /pitches 200"],
        ),
        ({"q": '"pitch deck" OR ledger'}, ["ledger corrupted", "slow render of pitch deck"]),
        ({"q": "pitch NOT deck"}, ["cache miss for pitch 7"]),
        ({"attr.region": "eu"}, ["payment declined for order 7"]),
        ({"attr.http.status": "402"}, ["payment declined for order 7"]),
        (
            {"since": "4500ms", "until": str(T0_MS - 1500)},
            ["connection timeout to db-primary", "ledger corrupted", "slow render of pitch deck"],
        ),
        ({"since": "2026-11-26T00:00:00Z", "until": "2026-11-26T23:59:59Z"}, ["yesterday's error"]),
        ({"q": "nothing-like-this"}, []),
    ],
)
async def test_filters_combine(
    seeded: httpx.AsyncClient, params: dict[str, str], expected: list[str]
) -> None:
    assert messages(await query(seeded, **params)) == expected


async def test_searching_for_personal_data_finds_its_marker(seeded: httpx.AsyncClient) -> None:
    marker = MARK("email", "alice@example.com")
    assert messages(await query(seeded, q="ALICE@example.com")) == [f"user {marker} signed in"]
    assert messages(await query(seeded, q=f'"{marker}"')) == [f"user {marker} signed in"]


async def test_pages_follow_the_cursor_across_shards_and_days(http: httpx.AsyncClient) -> None:
    batch = [record(f"m{i:02d}", f"svc{i % 5}", ago_ms=i * 3 * HOUR) for i in range(40)]
    for start in range(0, 40, 3):  # batches go to slot after slot: every shard holds some
        await ingest(http, batch[start : start + 3])
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = await query(http, **params)
        seen += messages(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"m{i:02d}" for i in range(40)]


async def test_records_in_the_same_millisecond_page_without_loss(http: httpx.AsyncClient) -> None:
    for i in range(12):  # one record per batch: three per slot, all in the same millisecond
        await ingest(http, [record(f"same {i}", f"svc{i}")])
    first = await query(http, limit=5)
    second = await query(http, limit=5, cursor=first["next_cursor"])
    third = await query(http, limit=5, cursor=second["next_cursor"])
    everything = messages(first) + messages(second) + messages(third)
    assert sorted(everything) == sorted(f"same {i}" for i in range(12))
    assert third["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": '"unclosed'}, "q: unbalanced quote"),
        ({"q": "NOT x"}, "q: NOT must exclude from something"),
        ({"level": "loud"}, "level: unknown log level 'loud'"),
        ({"trace_id": "xyz"}, "trace_id: expected 32 hex digits"),
        ({"limit": "0"}, "limit: expected an integer from 1 to 1000"),
        ({"limit": "5000"}, "limit: expected an integer from 1 to 1000"),
        ({"cursor": "garbage!"}, "cursor: not a cursor returned by this API"),
        ({"since": "1h", "until": "2h"}, "since"),
        ({"since": "last tuesday"}, "since"),
        ({"servce": "api"}, "servce: unknown parameter"),
        ({'attr.a"b': "x"}, 'attr.a"b: an attribute key is 1-256 characters without quotes'),
        ({"archive": "maybe"}, "archive: expected true or false"),
    ],
)
async def test_malformed_queries_are_400_with_the_reason(
    seeded: httpx.AsyncClient, params: dict[str, str], message: str
) -> None:
    reply = await seeded.get("/logs/query", params=params, headers=READ)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["code"] == "bad_request"
    assert reply.json()["error"]["message"].startswith(message)


async def test_reading_needs_a_read_token(http: httpx.AsyncClient) -> None:
    assert (await http.get("/logs/query")).status_code == 401
    assert (
        await http.get("/logs/query", headers={"authorization": "Bearer i-tok"})
    ).status_code == 403


async def test_a_trace_returns_its_logs_oldest_first(seeded: httpx.AsyncClient) -> None:
    reply = await seeded.get(f"/logs/trace/{TRACE.upper()}", headers=READ)
    assert reply.status_code == 200
    assert reply.json()["trace_id"] == TRACE
    assert [(r["service"], r["message"]) for r in reply.json()["logs"]] == [
        ("billing", "payment declined for order 7"),
        ("billing", "ledger corrupted"),
        ("api", "connection timeout to db-primary"),
    ]
    bad = await seeded.get("/logs/trace/not-a-trace", headers=READ)
    assert bad.status_code == 400 and "trace_id" in bad.json()["error"]["message"]


async def test_stats_count_by_level_and_service_in_buckets(seeded: httpx.AsyncClient) -> None:
    reply = await seeded.get("/logs/stats", params={"since": "1h", "step": "30m"}, headers=READ)
    assert reply.status_code == 200
    stats = reply.json()
    assert stats["step"] == "30m" and stats["total"] == 7
    assert stats["by_level"] == {"info": 2, "error": 2, "warning": 1, "fatal": 1, "debug": 1}
    assert stats["by_service"] == {"api": 3, "billing": 2, "web": 2}
    assert [b["total"] for b in stats["buckets"]] == [0, 7, 0]
    only = await seeded.get("/logs/stats", params={"since": "1h", "service": "web"}, headers=READ)
    assert only.json()["by_service"] == {"web": 2}
    bad = await seeded.get("/logs/stats", params={"step": "30s"}, headers=READ)
    assert bad.status_code == 400
