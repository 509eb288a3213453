"""Alerts over HTTP: listing with filters and cursors, acknowledging and resolving (with the
errors that guard them), the signed one-click links, and the aggregation groups view."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from localedge.clock import ManualClock
from localedge.stack import Stack
from tests.receiver import Receiver
from tests.stacks import gateway_client
from tests.workers.alerting.conftest import started
from tests.workers.alerting.support import (
    ADMIN,
    INGEST,
    READ,
    START,
    configure,
    event,
    fingerprint,
    raise_alerts,
)

pytestmark = pytest.mark.anyio


async def test_listing_filters_and_pages_newest_first(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    for i in range(5):
        severity = "critical" if i % 2 else "warning"
        await raise_alerts(http, event(f"A{i}", severity=severity, labels={"service": f"s{i % 2}"}))
        await stack.advance(1)
    first = (await http.get("/alerts?limit=2", headers=READ)).json()
    assert [a["name"] for a in first["alerts"]] == ["A4", "A3"]
    second = (await http.get(f"/alerts?limit=2&cursor={first['next_cursor']}", headers=READ)).json()
    third = (await http.get(f"/alerts?limit=2&cursor={second['next_cursor']}", headers=READ)).json()
    assert [a["name"] for a in second["alerts"] + third["alerts"]] == ["A2", "A1", "A0"]
    assert third["next_cursor"] is None
    critical = (await http.get("/alerts?severity=critical&service=s1", headers=READ)).json()
    assert [a["name"] for a in critical["alerts"]] == ["A3", "A1"]
    bad = await http.get("/alerts?cursor=bogus", headers=READ)
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "bad_request")
    wrong = await http.get("/alerts?status=sleeping", headers=READ)
    assert wrong.status_code == 422


async def test_acknowledge_and_resolve_guard_their_preconditions(http: httpx.AsyncClient) -> None:
    fp = fingerprint("HighErrorRate", {"service": "api"})
    assert (await http.post(f"/alerts/{fp}/ack", headers=INGEST)).status_code == 403
    missing = await http.post("/alerts/0000000000000000/ack", headers=ADMIN)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    await raise_alerts(http, event())
    acked = await http.post(f"/alerts/{fp}/ack", headers=ADMIN)
    assert acked.json()["acknowledged"]["by"] == "admin token"
    again = await http.post(f"/alerts/{fp}/ack", json={"by": "bob"}, headers=ADMIN)
    assert again.json()["acknowledged"]["by"] == "admin token"  # idempotent: the first one stands
    resolved = await http.post(
        f"/alerts/{fp}/resolve", json={"by": "bob", "note": "rolled back"}, headers=ADMIN
    )
    assert (resolved.json()["status"], resolved.json()["resolved_by"]) == (
        "resolved",
        "bob (rolled back)",
    )
    late = await http.post(f"/alerts/{fp}/ack", headers=ADMIN)
    assert (late.status_code, late.json()["error"]["code"]) == (409, "conflict")
    assert (
        await http.get("/alerts/0000000000000000/notifications", headers=READ)
    ).status_code == 404
    assert (await http.get("/alerts/no-such-thing", headers=READ)).status_code == 404


async def test_one_click_links_in_a_slack_message_acknowledge_without_a_token(
    stack: Stack, clock: ManualClock, http: httpx.AsyncClient, chat: Receiver
) -> None:
    await configure(
        http,
        {
            "route": {"receiver": "chat", "group_wait": "0s"},
            "receivers": [
                {"name": "chat", "slack_configs": [{"url": chat.url + "/services/T/B/C"}]}
            ],
        },
    )
    await raise_alerts(http, event())
    await stack.advance(0)
    buttons = [
        b
        for b in __import__("json").loads(chat.requests[0].body)["blocks"]
        if b["type"] == "actions"
    ]
    ack_url = buttons[0]["elements"][0]["url"]
    assert re.fullmatch(r"http://127\.0\.0\.1:8787/alerts/links/[\w-]+\.[\w-]+", ack_url)
    path = ack_url.removeprefix("http://127.0.0.1:8787")
    page = await http.get(path)
    assert page.status_code == 200 and "HighErrorRate is now acknowledged." in page.text
    fp = fingerprint("HighErrorRate", {"service": "api"})
    detail = (await http.get(f"/alerts/{fp}", headers=READ)).json()
    assert (detail["status"], detail["acknowledged"]["by"]) == (
        "acknowledged",
        "one-click link (link)",
    )
    forged = await http.post(path[:-3] + "abc")
    assert (forged.status_code, forged.json()["error"]["code"]) == (403, "forbidden")
    clock.advance(8 * 86_400)  # links last 7 days (time moves on quietly: no timers needed)
    expired = await http.post(path)
    assert expired.status_code == 403 and "expired" in expired.json()["error"]["message"]


async def test_the_groups_view_shows_aggregation_groups(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    await configure(
        http, {"route": {"receiver": "r", "group_by": ["service"]}, "receivers": [{"name": "r"}]}
    )
    await raise_alerts(http, event("A"), event("B"), event("C", labels={"service": "web"}))
    groups = (await http.get("/alerts/groups", headers=READ)).json()["groups"]
    assert [(g["key"], g["labels"], len(g["alerts"])) for g in groups] == [
        ('{}:{service="api"}', {"service": "api"}, 2),
        ('{}:{service="web"}', {"service": "web"}, 1),
    ]


async def test_everything_acknowledged_survives_a_restart(data_dir: Path, hook: Receiver) -> None:
    first = await started(data_dir, ManualClock(START))
    async with client(first) as http:
        await configure(
            http,
            {
                "route": {"receiver": "hook", "group_wait": "0s"},
                "receivers": [{"name": "hook", "webhook_configs": [{"url": hook.url}]}],
            },
        )
        await raise_alerts(http, event())
        await first.advance(0)
        silence = {"matchers": ['service="db"'], "duration": "1h", "createdBy": "a", "comment": "c"}
        await http.post("/alerts/silences", json=silence, headers=ADMIN)
        before = [(await http.get(path, headers=READ)).json() for path in PATHS]
    await first.close()
    second = await started(data_dir, ManualClock(START))
    try:
        async with client(second) as http:
            after = [(await http.get(path, headers=READ)).json() for path in PATHS]
    finally:
        await second.close()
    assert after == before
    assert before[0]["alerts"][0]["name"] == "HighErrorRate" and before[2]["silences"]


PATHS = [
    "/alerts",
    f"/alerts/{fingerprint('HighErrorRate', {'service': 'api'})}/notifications",
    "/alerts/silences",
    "/alerts/config",
    "/alerts/incidents/1",
]


def client(stack: Stack) -> httpx.AsyncClient:
    return gateway_client(stack, "http://x")
