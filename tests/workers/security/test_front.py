"""The isolate's front: limits decided on copies of the shards' counters, work sent in batches."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from localedge.stack import Stack
from security import front, shards
from security.limit.window import CounterState
from tests.workers.security.conftest import ADMIN, INGEST, READ, metric

RULE = {"id": "r", "limit": 100, "window_s": 60, "mode": "sliding_window"}
ITEM = {"rule": RULE, "key": "ip=1"}


def test_the_shard_decides_without_a_copy_for_exact_rules_and_near_the_limit() -> None:
    local = front.Front()
    assert front.decide(local, [ITEM], 1_000) is None  # no copy yet
    front.rebase(local, ("r", "ip=1"), 60_000, CounterState(0, 80, 0))
    [decided] = front.decide(local, [ITEM], 1_000) or []
    assert (decided["allowed"], decided["remaining"], decided["reset_ms"]) == (True, 19, 59_000)
    assert local.pending == {("r", "ip=1"): [1_000]}
    exact = {"rule": {**RULE, "mode": "exact"}, "key": "ip=1"}
    assert front.decide(local, [ITEM, exact], 1_000) is None
    front.rebase(local, ("r", "ip=1"), 60_000, CounterState(0, 89, 0))
    # 89 + 1 admitted here = 90: one more would leave 9 < a tenth of the limit.
    assert front.decide(local, [ITEM], 2_000) is None
    assert local.copies[("r", "ip=1")].state.current == 90  # a refused trial changes nothing


def test_a_copy_is_the_shards_count_plus_what_the_shard_has_not_seen() -> None:
    local = front.Front()
    front.rebase(local, ("r", "ip=1"), 60_000, CounterState(0, 10, 0))
    for at in (1_000, 2_000, 61_000):  # the last one opens the next window
        assert front.decide(local, [ITEM], at) is not None
    front.rebase(local, ("r", "ip=1"), 60_000, CounterState(0, 30, 0))  # others counted too
    state = local.copies[("r", "ip=1")].state
    assert (state.window_start_ms, state.previous, state.current) == (60_000, 32, 1)


def test_a_window_change_sends_the_check_to_the_shard() -> None:
    local = front.Front()
    front.rebase(local, ("r", "ip=1"), 30_000, CounterState(0, 1, 0))
    assert front.decide(local, [ITEM], 1_000) is None


@pytest.mark.anyio
async def test_limits_decided_here_and_in_the_shard_count_as_one(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rule = {"id": "twenty", "key": ["ip"], "limit": 20, "window_s": 60}
    assert (
        await http.put("/security/rules", json={"rate_limits": [rule]}, headers=ADMIN)
    ).status_code == 200
    answers: list[dict[str, Any]] = []
    for _ in range(22):
        reply = await http.post(
            "/security/check", json={"ip": "192.0.2.9", "path": "/a"}, headers=INGEST
        )
        answers.append(reply.json())
    assert [a["action"] for a in answers] == ["allow"] * 20 + ["rate_limited"] * 2
    assert [a["rate_limit"]["remaining"] for a in answers[:20]] == list(range(19, -1, -1))
    await stack.drain()
    reply = await http.get("/security/events?type=rate_limit&ip=192.0.2.9", headers=READ)
    [denied] = reply.json()["events"]  # the first denial only, recorded by the shard
    assert denied["evidence"]["limit"] == 20
    await stack.advance(120)  # two windows later every count has gone, here and in the shard
    again = await http.post(
        "/security/check", json={"ip": "192.0.2.9", "path": "/a"}, headers=INGEST
    )
    assert again.json()["rate_limit"]["remaining"] == 19


@pytest.mark.anyio
async def test_a_limit_holds_when_checks_decided_here_and_in_the_shard_race(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rule = {"id": "thirty", "key": ["ip"], "limit": 30, "window_s": 60}
    await http.put("/security/rules", json={"rate_limits": [rule]}, headers=ADMIN)

    async def one() -> str:
        body = {"ip": "192.0.2.10", "path": "/a"}
        reply = await http.post("/security/check", json=body, headers=INGEST)
        return str(reply.json()["action"])

    actions = [await one()]  # the shard decides and the isolate gets its copy
    for _ in range(3):  # copies in place, then a batch on its way while checks race
        actions += await asyncio.gather(*(one() for _ in range(5)))
    actions += await asyncio.gather(*(one() for _ in range(60)))
    assert actions.count("allow") == 30
    await stack.drain()
    env = stack.worker("obs-security").env
    shard = shards.stub(env, shards.index_of(env, "ip=192.0.2.10"))
    probe = {"rule": rule, "key": "ip=192.0.2.10"}
    state = await shard.check({"now_ms": int(stack.clock.now() * 1000), "limits": [probe]})
    assert state["limits"][0]["allowed"] is False  # the shard counted all thirty


@pytest.mark.anyio
async def test_a_check_waiting_for_queued_work_sends_only_its_own_shards_part(
    http: httpx.AsyncClient, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = stack.worker("obs-security").env
    monkeypatch.setattr(front, "flush_s", lambda _: 3600.0)  # no batch leaves on its own
    local = front.of(env)
    ips = ["192.0.2.21", "192.0.2.22", "192.0.2.23", "192.0.2.24"]
    apart = [
        ip for ip in ips if shards.index_of(env, f"ip={ip}") != shards.index_of(env, "ip=" + ips[0])
    ]
    a, b = ips[0], apart[0]
    for ip in (a, b, a, b):  # first checks go to the shards; the second ones are queued
        body = {"ip": ip, "path": "/a"}
        assert (await http.post("/security/check", json=body, headers=INGEST)).status_code == 200
    assert len(local.queue) == 2
    attack = {"ip": a, "path": "/a", "query": "q=%3Cscript%3Ealert(1)%3C/script%3E"}
    assert (await http.post("/security/check", json=attack, headers=INGEST)).json()[
        "action"
    ] == "block"
    assert [q.request["ip"] for q in local.queue] == [b]  # a's queued check went first
    assert f"ip={b}" in local.subjects and f"ip={a}" not in local.subjects
    local.full.set()  # as a full queue does: the waiting batch goes now
    await stack.drain()
    assert local.queue == []


@pytest.mark.anyio
async def test_a_refusal_holds_here_until_its_retry_time_without_asking_the_shard(
    http: httpx.AsyncClient, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule = {"id": "five", "key": ["ip"], "limit": 5, "window_s": 60}
    await http.put("/security/rules", json={"rate_limits": [rule]}, headers=ADMIN)
    namespace = stack.worker("obs-security").env.SHARDS
    calls: list[str] = []
    real_call = namespace._call

    async def counted(id: Any, method: str, args: Any, kwargs: Any) -> Any:
        calls.append(method)
        return await real_call(id, method, args, kwargs)

    monkeypatch.setattr(namespace, "_call", counted)
    hits = await metric(http, 'security_rate_limit_hits_total{rule="five"}')

    async def one() -> dict[str, Any]:
        body = {"ip": "192.0.2.40", "path": "/a"}
        return dict((await http.post("/security/check", json=body, headers=INGEST)).json())

    answers = [await one() for _ in range(6)]  # five admitted, the sixth refused by the shard
    assert [a["action"] for a in answers] == ["allow"] * 5 + ["rate_limited"]
    calls.clear()
    await stack.advance(10)
    again = [await one() for _ in range(4)]
    assert "check" not in calls  # refused here: the shard is not asked again
    assert [a["action"] for a in again] == ["rate_limited"] * 4
    assert again[0]["headers"]["Retry-After"] == str(
        int(answers[-1]["headers"]["Retry-After"]) - 10
    )
    assert again[0]["reasons"] == answers[-1]["reasons"]
    assert await metric(http, 'security_rate_limit_hits_total{rule="five"}') == hits + 5
    await stack.drain()
    events = (await http.get("/security/events?type=rate_limit", headers=READ)).json()["events"]
    assert len(events) == 1  # one event per refused window, as the shard records it
    await stack.advance(int(again[-1]["headers"]["Retry-After"]))
    assert (await one())["action"] == "allow"


@pytest.mark.anyio
async def test_what_a_shard_finds_in_a_batch_goes_to_the_check_that_caused_it(
    http: httpx.AsyncClient, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's id walk completed by a queued check, behind another queued check in the same
    shard's batch: the anomaly becomes an event of that check's source, not its neighbour's."""
    env = stack.worker("obs-security").env
    monkeypatch.setattr(front, "flush_s", lambda _: 3600.0)  # no batch leaves on its own
    walker = "u-walker"
    neighbour = next(  # another user whose profile lives in the walker's shard
        f"u-{n}"
        for n in range(1000)
        if shards.index_of(env, f"user=u-{n}") == shards.index_of(env, f"user={walker}")
    )

    async def check(ip: str, user: str, path: str) -> None:
        body = {"ip": ip, "user_id": user, "path": path, "route": "/api/pitches/{id}"}
        assert (await http.post("/security/check", json=body, headers=INGEST)).status_code == 200

    for n in range(19):  # nineteen ids walked from nineteen addresses
        await check(f"198.51.100.{n + 1}", walker, f"/api/pitches/{300 + n}")
    await check("198.51.100.20", "u-other", "/home")  # the last address, known from here on
    await check("198.51.100.50", neighbour, "/api/pitches/7")
    front.of(env).full.set()
    await stack.drain()
    assert front.of(env).queue == []
    await check("198.51.100.50", neighbour, "/api/pitches/8")  # queued first in that shard
    await check("198.51.100.20", walker, "/api/pitches/319")  # queued second: the twentieth id
    assert [q.request["ip"] for q in front.of(env).queue] == ["198.51.100.50", "198.51.100.20"]
    front.of(env).full.set()
    await stack.drain()
    reply = await http.get(f"/security/events?user_id={walker}", headers=READ)
    assert [(e["type"], e["ip"]) for e in reply.json()["events"]] == [
        ("enumeration", "198.51.100.20")
    ]
