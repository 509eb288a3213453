"""Scripted on the fake clock: an escalation policy walks its levels, exact to the second, and
acknowledging stops it; the timers are Durable Object alarms and survive a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from localedge.clock import ManualClock
from localedge.gateway import Gateway
from localedge.stack import Stack
from tests.receiver import Receiver
from tests.workers.alerting.conftest import started
from tests.workers.alerting.support import (
    ADMIN,
    READ,
    START,
    at,
    bodies,
    configure,
    event,
    fingerprint,
    raise_alerts,
)

pytestmark = pytest.mark.anyio


def policy_config(hook: str, pager: str, repeat: int = 0) -> dict[str, Any]:
    """Level 1 at once to the team webhook, level 2 after 5m to a second webhook, level 3
    10m later to whoever is on call (by email and SMS)."""
    return {
        "global": {
            "external_url": "https://obs.example.com",
            "email": {
                "url": pager + "/v3/mail/send",
                "api_key": "SG.key",
                "from": "alerts@pitchey.com",
            },
            "sms": {
                "url": pager + "/2010-04-01/Accounts/{account_sid}/Messages.json",
                "account_sid": "AC123",
                "auth_token": "twilio-token",
                "from": "+15550000000",
            },
        },
        "route": {"receiver": "quiet", "group_wait": "0s", "escalation": "critical"},
        "receivers": [
            {"name": "quiet"},
            {"name": "team", "webhook_configs": [{"url": hook + "/level1"}]},
            {"name": "leads", "webhook_configs": [{"url": hook + "/level2"}]},
        ],
        "people": [
            {"name": "alice", "email": "alice@pitchey.com", "phone": "+15551230001"},
            {"name": "bob", "email": "bob@pitchey.com", "phone": "+15551230002"},
        ],
        "schedules": [
            {
                "name": "primary",
                "rotation": {"users": ["alice", "bob"], "start": at(-3600), "shift": "1d"},
            }
        ],
        "escalation_policies": [
            {
                "name": "critical",
                "levels": [
                    {"delay": "0s", "targets": [{"receiver": "team"}]},
                    {"delay": "5m", "targets": [{"receiver": "leads"}]},
                    {"delay": "10m", "targets": [{"schedule": "primary"}]},
                ],
                "repeat": repeat,
                "repeat_after": "30m",
            }
        ],
    }


async def timeline(http: httpx.AsyncClient, kind: str) -> list[str]:
    events = (await http.get("/alerts/incidents/1/timeline", headers=READ)).json()["events"]
    return [e["at"] for e in events if e["kind"] == kind]


async def test_an_unacknowledged_alert_escalates_through_three_levels_at_their_exact_times(
    stack: Stack, http: httpx.AsyncClient, hook: Receiver, pager: Receiver
) -> None:
    await configure(http, policy_config(hook.url, pager.url))
    await raise_alerts(http, event())
    await stack.advance(0)
    assert [r.path for r in hook.requests] == ["/level1"]
    await stack.advance(299)
    assert [r.path for r in hook.requests] == ["/level1"]
    await stack.advance(1)
    assert [r.path for r in hook.requests] == ["/level1", "/level2"]
    await stack.advance(599)
    assert pager.requests == []
    await stack.advance(1)
    by_path = {r.path: r for r in pager.requests}
    assert set(by_path) == {"/v3/mail/send", "/2010-04-01/Accounts/AC123/Messages.json"}
    mail = bodies([by_path["/v3/mail/send"]])[0]
    assert mail["personalizations"] == [{"to": [{"email": "alice@pitchey.com"}]}]
    assert mail["subject"] == "[ESCALATED L3:1] HighErrorRate"
    sms = parse_qs(by_path["/2010-04-01/Accounts/AC123/Messages.json"].body.decode())
    assert (sms["To"], sms["From"]) == (["+15551230001"], ["+15550000000"])
    assert await timeline(http, "escalated") == [at(0), at(300), at(900)]
    await stack.advance(3600)
    assert len(hook.requests) + len(pager.requests) == 4  # no repeat configured


async def test_acknowledging_stops_the_escalation(
    stack: Stack, http: httpx.AsyncClient, hook: Receiver, pager: Receiver
) -> None:
    await configure(http, policy_config(hook.url, pager.url, repeat=2))
    await raise_alerts(http, event())
    await stack.advance(120)
    fp = fingerprint("HighErrorRate", {"service": "api"})
    reply = await http.post(
        f"/alerts/{fp}/ack", json={"by": "alice", "note": "on it"}, headers=ADMIN
    )
    assert reply.status_code == 200
    acked = reply.json()
    assert (acked["status"], acked["acknowledged"]) == (
        "acknowledged",
        {"by": "alice", "at": at(120), "note": "on it"},
    )
    assert acked["escalation"] is None
    await stack.advance(3600)
    assert [r.path for r in hook.requests] == ["/level1"]
    assert pager.requests == []
    events = (await http.get("/alerts/incidents/1/timeline", headers=READ)).json()["events"]
    assert [(e["kind"], e["text"]) for e in events if e["kind"] == "acknowledged"] == [
        ("acknowledged", "HighErrorRate acknowledged by alice (escalation stopped): on it")
    ]
    listing = (await http.get("/alerts?status=acknowledged", headers=READ)).json()["alerts"]
    assert [a["id"] for a in listing] == [fp]


async def test_the_policy_repeats_from_the_first_level_when_asked(
    stack: Stack, http: httpx.AsyncClient, hook: Receiver, pager: Receiver
) -> None:
    await configure(http, policy_config(hook.url, pager.url, repeat=1))
    await raise_alerts(http, event())
    await stack.advance(900 + 1800)
    assert [r.path for r in hook.requests] == ["/level1", "/level2", "/level1"]
    await stack.advance(3600)
    assert [r.path for r in hook.requests] == ["/level1", "/level2", "/level1", "/level2"]


async def test_escalation_timers_survive_a_restart_of_the_stack(
    data_dir: Path, hook: Receiver, pager: Receiver
) -> None:
    clock = ManualClock(START)
    first = await started(data_dir, clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=Gateway(first)), base_url="http://x"
    ) as http:
        await configure(http, policy_config(hook.url, pager.url))
        await raise_alerts(http, event())
        await first.advance(60)
    await first.close()
    second = await started(data_dir, clock)
    try:
        await second.advance(239)
        assert [r.path for r in hook.requests] == ["/level1"]
        await second.advance(1)
        assert [r.path for r in hook.requests] == ["/level1", "/level2"]
    finally:
        await second.close()
