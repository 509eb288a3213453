"""Behavioural anomalies seen through /security/check: spikes, id walks, new places, travel.

Benign checks are answered by the isolate and reach their shards in batches after the answer
(security.front), so their anomalies are read from the events once the batch has gone.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from localedge.stack import Stack
from tests.workers.security.conftest import ADMIN, INGEST, READ

pytestmark = pytest.mark.anyio


async def check(http: httpx.AsyncClient, **body: object) -> dict[str, object]:
    reply = await http.post("/security/check", json={"ip": "203.0.113.7", **body}, headers=INGEST)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


async def events(http: httpx.AsyncClient, stack: Stack, query: str) -> list[dict[str, Any]]:
    await stack.drain()  # the batch of queued checks reaches the shards
    reply = await http.get(f"/security/events?{query}", headers=READ)
    assert reply.status_code == 200, reply.text
    return list(reply.json()["events"])


async def test_walking_sequential_ids_is_enumeration(http: httpx.AsyncClient, stack: Stack) -> None:
    for n in range(1000, 1020):
        answer = await check(http, path=f"/api/pitches/{n}", route="/api/pitches/{id}")
        assert answer["action"] == "allow"
    [event] = await events(http, stack, "ip=203.0.113.7")
    assert event["type"] == "enumeration"
    assert event["evidence"] == {
        "subject": "ip",
        "route": "/api/pitches/{id}",
        "distinct_ids": 20,
        "sequential_share": 1.0,
        "first_id": 1000,
        "last_id": 1019,
        "samples": 20,
    }
    # The twentieth request's time: the batch keeps each check's own moment.
    assert event["time"] == "2026-11-27T10:00:00.000Z"


async def test_browsing_scattered_ids_is_not_enumeration(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    for n in range(25):
        await check(http, path=f"/api/pitches/{n * 37 % 101 + 7 * n}")
    assert await events(http, stack, "ip=203.0.113.7") == []


async def test_a_request_spike_is_judged_against_the_sources_own_baseline(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    await http.put("/security/rules", headers=ADMIN, json={"anomaly": {"spike_floor": 20}})
    for _ in range(12):  # twelve quiet minutes at 3-5 requests a minute
        for _ in range(4):
            await check(http, path="/api/pitches")
        await stack.advance(60)
    assert await events(http, stack, "ip=203.0.113.7") == []
    for _ in range(25):
        await check(http, path="/api/pitches")
    [spike] = await events(http, stack, "ip=203.0.113.7")
    assert spike["type"] == "request_spike"
    assert spike["evidence"]["per_minute"] == 21 and spike["evidence"]["samples"] == 12
    assert spike["evidence"]["baseline"] == "median 4, MAD 0 over 12 samples"


async def test_a_user_in_a_new_country_and_an_impossible_journey(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    for _ in range(5):  # five sightings in London make a baseline
        await check(http, user_id="u-42", country="GB", asn=2856, latitude=51.5, longitude=-0.12)
        await stack.advance(60)
    assert await events(http, stack, "user_id=u-42") == []
    await check(
        http,
        ip="198.51.100.4",
        user_id="u-42",
        country="AU",
        asn=1221,
        latitude=-33.87,
        longitude=151.21,
    )
    found = await events(http, stack, "user_id=u-42")
    kinds = {e["type"]: e["evidence"] for e in found}
    assert set(kinds) == {"impossible_travel", "new_location"}
    assert kinds["impossible_travel"]["from"] == "GB" and kinds["impossible_travel"]["km"] == 16994
    assert kinds["new_location"] == {
        "new": ["country AU", "AS1221"],
        "known_countries": ["GB"],
        "known_asns": 1,
        "samples": 5,
    }
    assert {e["ip"] for e in found} == {"198.51.100.4"}


async def test_events_filter_and_paginate_with_a_cursor(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    for n in range(5):
        await check(http, ip=f"203.0.113.{n + 1}", query="q=%3Cscript%3Ealert(1)%3C/script%3E")
        await stack.advance(1)
    first = (await http.get("/security/events?limit=2", headers=READ)).json()
    second = (
        await http.get(f"/security/events?limit=2&cursor={first['cursor']}", headers=READ)
    ).json()
    third = (
        await http.get(f"/security/events?limit=2&cursor={second['cursor']}", headers=READ)
    ).json()
    ips = [e["ip"] for page in (first, second, third) for e in page["events"]]
    assert ips == ["203.0.113.5", "203.0.113.4", "203.0.113.3", "203.0.113.2", "203.0.113.1"]
    assert third["cursor"] is None
    since = (await http.get("/security/events?since=3s", headers=READ)).json()["events"]
    assert [e["ip"] for e in since] == ["203.0.113.5", "203.0.113.4", "203.0.113.3"]


async def test_bad_event_queries_are_client_errors(http: httpx.AsyncClient) -> None:
    for query, status in [
        ("since=yesterday", 400),
        ("cursor=%25%25", 400),
        ("ip=not-an-ip", 400),
        ("limit=0", 422),
        ("type=sqli", 200),
    ]:
        reply = await http.get(f"/security/events?{query}", headers=READ)
        assert reply.status_code == status, query


async def test_a_signed_in_user_walking_ids_from_many_addresses_is_enumeration(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    for n in range(20):  # a different address each time: only the user ties them together
        await check(
            http,
            ip=f"198.51.100.{n + 1}",
            user_id="u-7",
            path=f"/api/pitches/{300 + n}",
            route="/api/pitches/{id}",
        )
    found = await events(http, stack, "user_id=u-7")
    assert [(e["type"], e["ip"], e["evidence"]["subject"]) for e in found] == [
        ("enumeration", "198.51.100.20", "user")
    ]
