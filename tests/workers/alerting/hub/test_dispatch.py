"""Scripted on the fake clock: grouping, deduplication, inhibition and silences, end to end
through HTTP, with a real local receiver standing in for the webhook endpoint."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
import pytest

from localedge.stack import Stack
from tests.receiver import Receiver
from tests.workers.alerting.support import (
    ADMIN,
    READ,
    at,
    bodies,
    configure,
    event,
    fingerprint,
    raise_alerts,
)

pytestmark = pytest.mark.anyio
ZERO = "0001-01-01T00:00:00Z"


def webhook_config(url: str, **route: Any) -> dict[str, Any]:
    return {
        "global": {"external_url": "https://obs.example.com"},
        "route": {
            "receiver": "hook",
            "group_by": ["alertname"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            **route,
        },
        "receivers": [
            {"name": "hook", "webhook_configs": [{"url": url + "/hook", "hmac_secret": "s3cr3t"}]}
        ],
    }


def am_alert(
    service: str, starts: float, status: str = "firing", ends: float | None = None
) -> dict[str, Any]:
    labels = {"service": service, "alertname": "HighErrorRate", "severity": "critical"}
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": "5xx above 5%"},
        "startsAt": at(starts),
        "endsAt": ZERO if ends is None else at(ends),
        "generatorURL": "",
        "fingerprint": fingerprint("HighErrorRate", {"service": service, "severity": "critical"}),
    }


async def test_alerts_are_grouped_until_group_wait_then_sent_as_one_alertmanager_payload(
    stack: Stack, http: httpx.AsyncClient, hook: Receiver
) -> None:
    await configure(http, webhook_config(hook.url))
    summary = {"annotations": {"summary": "5xx above 5%"}}
    await raise_alerts(http, event(**summary, labels={"service": "api", "severity": "critical"}))
    await stack.advance(10)
    await raise_alerts(http, event(**summary, labels={"service": "web", "severity": "critical"}))
    await stack.advance(19)
    assert hook.requests == []  # still inside group_wait
    await stack.advance(1)
    [sent] = hook.requests
    assert sent.path == "/hook"
    assert bodies([sent]) == [
        {
            "version": "4",
            "groupKey": '{}:{alertname="HighErrorRate"}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "hook",
            "groupLabels": {"alertname": "HighErrorRate"},
            "commonLabels": {"alertname": "HighErrorRate", "severity": "critical"},
            "commonAnnotations": {"summary": "5xx above 5%"},
            "externalURL": "https://obs.example.com",
            "alerts": [am_alert("api", 0), am_alert("web", 10)],
        }
    ]
    # The signature covers the timestamp and the exact body bytes.
    stamp = sent.headers["x-obs-timestamp"]
    mac = hmac.new(b"s3cr3t", stamp.encode() + b"." + sent.body, hashlib.sha256).hexdigest()
    assert sent.headers["x-obs-signature"] == f"sha256={mac}"
    assert sent.headers["content-type"] == "application/json"


async def test_a_new_alert_in_a_flushed_group_waits_for_group_interval_and_resolution_follows(
    stack: Stack, http: httpx.AsyncClient, hook: Receiver
) -> None:
    await configure(http, webhook_config(hook.url))
    await raise_alerts(http, event(labels={"service": "api"}))
    await stack.advance(30)
    assert len(hook.requests) == 1
    await stack.advance(30)
    await raise_alerts(http, event(labels={"service": "db"}))
    await stack.advance(269)
    assert len(hook.requests) == 1  # group_interval (5m after the first flush) not over
    await stack.advance(1)
    second = bodies(hook.requests)[1]
    assert [a["labels"]["service"] for a in second["alerts"]] == ["api", "db"]
    fp = fingerprint("HighErrorRate", {"service": "api"})
    reply = await http.post(f"/alerts/{fp}/resolve", json={"by": "alice"}, headers=ADMIN)
    assert reply.json()["status"] == "resolved"
    await stack.advance(300)
    third = bodies(hook.requests)[2]
    assert third["status"] == "firing"
    assert [(a["labels"]["service"], a["status"]) for a in third["alerts"]] == [
        ("api", "resolved"),
        ("db", "firing"),
    ]
    assert third["alerts"][0]["endsAt"] == at(330 + 0)  # resolved when the resolve call came


async def test_an_unchanged_group_repeats_only_after_repeat_interval(
    stack: Stack, http: httpx.AsyncClient, hook: Receiver
) -> None:
    await configure(http, webhook_config(hook.url, group_wait="0s", repeat_interval="1h"))
    await raise_alerts(http, event())
    await stack.advance(0)
    await stack.advance(3599)
    assert len(hook.requests) == 1
    await stack.advance(1)  # the 12th group_interval tick is the first 1h after the first send
    assert len(hook.requests) == 2


async def test_duplicate_events_make_one_alert_and_one_notification(
    stack: Stack, http: httpx.AsyncClient, hook: Receiver
) -> None:
    await configure(http, webhook_config(hook.url, group_wait="0s"))
    for _ in range(5):
        assert (await raise_alerts(http, event()))["accepted"] == 1
        await stack.advance(1)
    await stack.advance(60)
    listing = (await http.get("/alerts", headers=READ)).json()["alerts"]
    assert [(a["name"], a["received"], a["status"]) for a in listing] == [
        ("HighErrorRate", 5, "firing")
    ]
    assert len(hook.requests) == 1


async def test_a_critical_inhibits_warnings_of_the_same_service_until_it_resolves(
    stack: Stack, http: httpx.AsyncClient, hook: Receiver
) -> None:
    config = webhook_config(hook.url, group_by=["alertname", "service"])
    config["inhibit_rules"] = [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["service"],
        }
    ]
    await configure(http, config)
    await raise_alerts(
        http,
        event("Slow", severity="warning", labels={"service": "api"}),
        event("Down", severity="critical", labels={"service": "api"}),
        event("Slow", severity="warning", labels={"service": "web"}),
    )
    await stack.advance(30)
    sent = sorted(
        (b["groupLabels"]["alertname"], b["groupLabels"]["service"]) for b in bodies(hook.requests)
    )
    assert sent == [("Down", "api"), ("Slow", "web")]
    slow_api = fingerprint("Slow", {"service": "api"})
    down_api = fingerprint("Down", {"service": "api"})
    detail = (await http.get(f"/alerts/{slow_api}", headers=READ)).json()
    assert (detail["state"], detail["inhibited_by"]) == ("suppressed", [down_api])
    await http.post(f"/alerts/{down_api}/resolve", headers=ADMIN)
    await stack.advance(300)
    now_sent = [
        (b["groupLabels"]["alertname"], b["groupLabels"]["service"], b["status"])
        for b in bodies(hook.requests)[2:]
    ]
    assert sorted(now_sent) == [("Down", "api", "resolved"), ("Slow", "api", "firing")]


async def test_a_silence_mutes_matching_alerts_until_it_is_expired(
    stack: Stack, http: httpx.AsyncClient, hook: Receiver
) -> None:
    await configure(http, webhook_config(hook.url, group_by=["service"], group_wait="0s"))
    silence = {
        "matchers": ['service=~"api|web"', {"name": "team", "value": "db", "isEqual": False}],
        "startsAt": "now",
        "duration": "2h",
        "createdBy": "alice@pitchey.com",
        "comment": "deploy window",
    }
    created = await http.post("/alerts/silences", json=silence, headers=ADMIN)
    assert created.status_code == 201, created.text
    silence_id = created.json()["silenceID"]
    await raise_alerts(http, event(labels={"service": "api"}), event(labels={"service": "db"}))
    await stack.advance(0)
    assert [b["groupLabels"] for b in bodies(hook.requests)] == [{"service": "db"}]
    api = fingerprint("HighErrorRate", {"service": "api"})
    detail = (await http.get(f"/alerts/{api}", headers=READ)).json()
    assert (detail["state"], detail["silenced_by"]) == ("suppressed", [silence_id])
    expired = await http.delete(f"/alerts/silences/{silence_id}", headers=ADMIN)
    assert expired.json()["status"]["state"] == "expired"
    await stack.advance(300)  # the api group's next tick
    assert [b["groupLabels"] for b in bodies(hook.requests)][1:] == [{"service": "api"}]


async def test_alerts_posted_by_prometheus_expire_at_ends_at_unless_sent_again(
    stack: Stack, http: httpx.AsyncClient, hook: Receiver
) -> None:
    await configure(http, webhook_config(hook.url, group_wait="0s", group_interval="1m"))
    alert = {
        "labels": {"alertname": "InstanceDown", "instance": "web-1"},
        "annotations": {"summary": "down"},
    }
    reply = await http.post("/api/v2/alerts", json=[{**alert, "endsAt": at(180)}], headers=ADMIN)
    assert reply.status_code == 200, reply.text
    await stack.advance(120)
    await http.post("/api/v2/alerts", json=[{**alert, "endsAt": at(300)}], headers=ADMIN)
    await stack.advance(179)
    fp = fingerprint("InstanceDown", {"instance": "web-1"})
    assert (await http.get(f"/alerts/{fp}", headers=READ)).json()["status"] == "firing"
    await stack.advance(1)
    detail = (await http.get(f"/alerts/{fp}", headers=READ)).json()
    assert (detail["status"], detail["ends_at"]) == ("resolved", at(300))
    await stack.advance(60)
    assert [b["status"] for b in bodies(hook.requests)] == ["firing", "resolved"]


async def test_a_mute_time_interval_holds_notifications_until_it_ends(
    stack: Stack, http: httpx.AsyncClient, hook: Receiver
) -> None:
    config = webhook_config(hook.url, group_wait="0s", group_interval="5m")
    config["time_intervals"] = [
        {
            "name": "maintenance",
            "time_intervals": [{"times": [{"start_time": "09:00", "end_time": "09:10"}]}],
        }
    ]
    config["route"]["routes"] = [
        {"matchers": ['service="api"'], "mute_time_intervals": ["maintenance"]}
    ]
    await configure(http, config)
    await raise_alerts(http, event())
    await stack.advance(599)  # ticks at 09:00 and 09:05 fall inside the interval
    assert hook.requests == []
    await stack.advance(1)  # 09:10: the interval is over
    assert [b["status"] for b in bodies(hook.requests)] == ["firing"]
