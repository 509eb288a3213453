"""Scripted on the fake clock: delivery retries (scheduled as alarms, never slept), Retry-After,
no retry on a 400, throttling to the provider's rate, and the notification log of it all."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from localedge.stack import Stack
from tests.receiver import Receiver
from tests.workers.alerting.support import (
    READ,
    START_MS,
    at,
    configure,
    event,
    fingerprint,
    raise_alerts,
)

pytestmark = pytest.mark.anyio
FP = fingerprint("HighErrorRate", {"service": "api"})


def hook_config(url: str, **route: Any) -> dict[str, Any]:
    return {
        "route": {"receiver": "hook", "group_wait": "0s", "group_interval": "1h", **route},
        "receivers": [{"name": "hook", "webhook_configs": [{"url": url + "/hook"}]}],
    }


async def log(http: httpx.AsyncClient, fp: str = FP) -> list[dict[str, Any]]:
    reply = await http.get(f"/alerts/{fp}/notifications", headers=READ)
    assert reply.status_code == 200, reply.text
    notifications: list[dict[str, Any]] = reply.json()["notifications"]
    return notifications


def ms(rfc3339: str) -> int:
    from obs_schema.timespec import parse_instant

    return round(parse_instant(rfc3339, 0) * 1000)


async def test_a_503_is_retried_with_backoff_and_then_delivered(
    stack: Stack, http: httpx.AsyncClient, hook: Receiver
) -> None:
    await configure(http, hook_config(hook.url))
    hook.answer(503)
    await raise_alerts(http, event())
    await stack.advance(0)
    [pending] = await log(http)
    assert (pending["state"], pending["attempts"]) == ("pending", 1)
    [first] = pending["log"]
    assert (first["status"], first["outcome"], first["error"]) == (
        503,
        "retry",
        "webhook: HTTP 503 {}",
    )
    wait_ms = ms(first["retry_at"]) - START_MS
    assert 2_500 <= wait_ms < 5_000  # 5 s base, jitter in [0.5, 1)
    await stack.advance(wait_ms / 1000 - 0.001)
    assert len(hook.requests) == 1  # not a millisecond early
    await stack.advance(0.001)
    assert len(hook.requests) == 2
    assert hook.requests[0].body == hook.requests[1].body  # the same message again
    [delivered] = await log(http)
    assert (delivered["state"], delivered["attempts"], delivered["last_error"]) == (
        "delivered",
        2,
        None,
    )
    assert [(a["attempt"], a["status"], a["outcome"]) for a in delivered["log"]] == [
        (1, 503, "retry"),
        (2, 200, "delivered"),
    ]


async def test_a_400_is_not_retried(stack: Stack, http: httpx.AsyncClient, hook: Receiver) -> None:
    await configure(http, hook_config(hook.url))
    hook.answer(400)
    await raise_alerts(http, event())
    await stack.advance(3600)
    assert len(hook.requests) == 1
    [failed] = await log(http)
    assert (failed["state"], failed["attempts"], failed["next_attempt_at"]) == ("failed", 1, None)
    assert [(a["status"], a["outcome"], a["retry_at"]) for a in failed["log"]] == [
        (400, "failed", None)
    ]
    events = (await http.get("/alerts/incidents/1/timeline", headers=READ)).json()["events"]
    assert [e["kind"] for e in events] == ["fired", "notification_failed"]


async def test_a_429_waits_at_least_its_retry_after(
    stack: Stack, http: httpx.AsyncClient, hook: Receiver
) -> None:
    await configure(http, hook_config(hook.url))
    hook.answer((429, {"Retry-After": "120"}))
    await raise_alerts(http, event())
    await stack.advance(119.999)
    assert len(hook.requests) == 1
    [pending] = await log(http)
    assert pending["log"][0]["retry_at"] == at(120)
    await stack.advance(0.001)
    assert len(hook.requests) == 2


async def test_network_errors_are_retried_until_attempts_run_out(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    probe = socket.socket()  # bound, never listening: connections are refused
    probe.bind(("127.0.0.1", 0))
    closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    config = hook_config(closed)
    config["global"] = {"delivery": {"max_attempts": 3, "backoff": "1s", "max_backoff": "4s"}}
    await configure(http, config)
    await raise_alerts(http, event())
    await stack.advance(60)
    [failed] = await log(http)
    assert [(a["attempt"], a["status"], a["outcome"]) for a in failed["log"]] == [
        (1, None, "retry"),
        (2, None, "retry"),
        (3, None, "failed"),
    ]
    assert failed["log"][0]["error"] == "webhook: could not connect (ConnectError)"
    assert closed not in str(failed)
    probe.close()


async def test_slack_is_throttled_to_about_one_message_a_second(
    stack: Stack, http: httpx.AsyncClient, chat: Receiver
) -> None:
    config = {
        "route": {"receiver": "chat", "group_wait": "0s", "group_by": ["service"]},
        "receivers": [{"name": "chat", "slack_configs": [{"url": chat.url + "/services/T/B/X"}]}],
    }
    await configure(http, config)
    await raise_alerts(http, *(event(labels={"service": f"svc-{i}"}) for i in range(6)))
    await stack.advance(0)
    assert len(chat.requests) == 3  # the burst
    await stack.advance(1)
    assert len(chat.requests) == 4
    await stack.advance(2)
    assert len(chat.requests) == 6
    throttled = await log(http, fingerprint("HighErrorRate", {"service": "svc-5"}))
    assert throttled[0]["throttled"] >= 1 and throttled[0]["attempts"] == 1
