"""Rate limits through HTTP: rules, keys, headers, and limits that hold under concurrency."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from localedge.stack import Stack
from tests.workers.security.conftest import ADMIN, INGEST

pytestmark = pytest.mark.anyio


async def put_rules(http: httpx.AsyncClient, *rules: dict[str, object]) -> dict[str, object]:
    reply = await http.put("/security/rules", json={"rate_limits": list(rules)}, headers=ADMIN)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


async def check(http: httpx.AsyncClient, **body: object) -> dict[str, object]:
    reply = await http.post("/security/check", json={"ip": "203.0.113.7", **body}, headers=INGEST)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


@pytest.mark.parametrize("mode", ["exact", "sliding_window"])
async def test_a_limit_holds_under_fifty_concurrent_checks(
    http: httpx.AsyncClient, mode: str
) -> None:
    await put_rules(http, {"id": "burst", "key": ["ip"], "limit": 10, "window_s": 60, "mode": mode})
    answers = await asyncio.gather(*(check(http, path="/api/pitches") for _ in range(50)))
    actions = [a["action"] for a in answers]
    assert actions.count("allow") == 10 and actions.count("rate_limited") == 40
    remaining = sorted(a["rate_limit"]["remaining"] for a in answers)  # type: ignore[index]
    assert remaining[-10:] == list(range(10))


async def test_a_limited_answer_tells_the_caller_what_to_send(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    await put_rules(
        http,
        {
            "id": "login",
            "key": ["ip"],
            "limit": 2,
            "window_s": 60,
            "mode": "exact",
            "routes": ["/api/auth/*"],
            "methods": ["POST"],
        },
    )
    first = await check(http, method="POST", path="/api/auth/login")
    await stack.advance(20)
    await check(http, method="POST", path="/api/auth/login")
    await stack.advance(10)
    third = await check(http, method="POST", path="/api/auth/login")
    other = await check(http, method="GET", path="/api/auth/login")
    assert first["headers"] == {
        "RateLimit-Limit": "2",
        "RateLimit-Remaining": "1",
        "RateLimit-Reset": "60",
        "RateLimit-Policy": "2;w=60",
    }
    assert third["action"] == "rate_limited"
    assert third["reasons"] == ["rate limit login: 2 requests per window exceeded"]
    assert third["rate_limit"] == {"limit": 2, "remaining": 0, "reset_s": 30, "rule": "login"}
    assert third["headers"]["Retry-After"] == "30"  # type: ignore[index]
    assert other["rate_limit"] is None  # GET is not counted by a POST-only rule
    await stack.advance(30)
    assert (await check(http, method="POST", path="/api/auth/login"))["action"] == "allow"


@pytest.mark.parametrize(
    ("key", "first", "second", "limited"),
    [
        (["user"], {"user_id": "u1"}, {"user_id": "u1", "ip": "198.51.100.1"}, True),
        (["user"], {"user_id": "u1"}, {"user_id": "u2"}, False),
        (
            ["token"],
            {"headers": {"authorization": "Bearer t1"}},
            {"headers": {"authorization": "Bearer t1"}, "ip": "198.51.100.1"},
            True,
        ),
        (
            ["header:x-api-key"],
            {"headers": {"x-api-key": "k1"}},
            {"headers": {"x-api-key": "k2"}},
            False,
        ),
        (["route"], {"path": "/a"}, {"path": "/a", "ip": "198.51.100.1"}, True),
        (["ip", "route"], {"path": "/a"}, {"path": "/b"}, False),
    ],
)
async def test_rules_count_per_key_component(
    http: httpx.AsyncClient,
    key: list[str],
    first: dict[str, object],
    second: dict[str, object],
    limited: bool,
) -> None:
    await put_rules(http, {"id": "one", "key": key, "limit": 1, "window_s": 60})
    assert (await check(http, **first))["action"] == "allow"
    assert ((await check(http, **second))["action"] == "rate_limited") is limited


async def test_an_anonymous_request_is_not_counted_by_a_per_user_rule(
    http: httpx.AsyncClient,
) -> None:
    await put_rules(http, {"id": "per-user", "key": ["user"], "limit": 1, "window_s": 60})
    answers = [await check(http) for _ in range(3)]
    assert {a["action"] for a in answers} == {"allow"}
    assert {a["rate_limit"] is None for a in answers} == {True}


INVALID = [
    (
        {"id": "x", "key": ["ip"], "limit": 5000, "window_s": 60, "mode": "exact"},
        "exact mode is for limits up to 1000",
    ),
    ({"id": "x", "key": ["cookie"], "limit": 5, "window_s": 60}, "unknown key component"),
    ({"id": "x", "key": ["ip"], "limit": 0, "window_s": 60}, "greater than or equal to 1"),
    ({"id": "bad id!", "key": ["ip"], "limit": 5, "window_s": 60}, "should match pattern"),
]


async def test_invalid_rules_are_422(http: httpx.AsyncClient) -> None:
    for rule, message in INVALID:
        reply = await http.put("/security/rules", json={"rate_limits": [rule]}, headers=ADMIN)
        assert reply.status_code == 422
        assert message in str(reply.json()["error"])


async def test_rules_need_an_admin_token_and_round_trip(http: httpx.AsyncClient) -> None:
    assert (await http.get("/security/rules", headers=INGEST)).status_code == 403
    saved = await put_rules(http, {"id": "a", "key": ["ip"], "limit": 3, "window_s": 10})
    assert saved["version"] == 1
    read = (await http.get("/security/rules", headers=ADMIN)).json()
    assert read == saved
    assert read["rate_limits"] == [
        {
            "id": "a",
            "key": ["ip"],
            "limit": 3,
            "window_s": 10,
            "mode": "sliding_window",
            "routes": [],
            "methods": [],
        }
    ]
