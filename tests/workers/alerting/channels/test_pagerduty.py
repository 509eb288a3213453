"""PagerDuty Events API v2: exact events, field by field, and the trigger -> acknowledge ->
resolve lifecycle sharing one dedup_key (the alert's fingerprint), end to end."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from alerting.channels.pagerduty import render
from alerting.message import AlertView, Message
from localedge.stack import Stack
from tests.receiver import Receiver
from tests.workers.alerting.support import (
    ADMIN,
    PD_KEY,
    at,
    bodies,
    configure,
    event,
    fingerprint,
    raise_alerts,
)

pytestmark = pytest.mark.anyio
FP = fingerprint("HighErrorRate", {"service": "api"})


def view(status: str = "firing", **overrides: Any) -> AlertView:
    fields: dict[str, Any] = {
        "fingerprint": "c508c62a1b2c3d4e",
        "name": "HighErrorRate",
        "status": status,
        "severity": "critical",
        "labels": {"alertname": "HighErrorRate", "service": "api", "instance": "web-1"},
        "annotations": {
            "summary": "5xx ratio 7.2% > 5%",
            "runbook_url": "https://runbooks.example.com/x",
        },
        "starts_ms": 1_787_220_000_000,
        "source": "apm",
        "url": "https://obs.example.com/alerts/c508c62a1b2c3d4e",
    }
    return AlertView(**{**fields, **overrides})


def message(*alerts: AlertView, kind: str = "group") -> Message:
    return Message(
        receiver="pager",
        status="firing",
        group_key="{}:{}",
        group_labels={},
        alerts=alerts,
        reason="first_notification",
        external_url="https://obs.example.com",
        kind=kind,
        incident_id=12,
    )


def test_a_trigger_carries_the_spec_fields() -> None:
    assert render(message(view()), PD_KEY) == {
        "routing_key": PD_KEY,
        "event_action": "trigger",
        "dedup_key": "c508c62a1b2c3d4e",
        "payload": {
            "summary": "HighErrorRate: 5xx ratio 7.2% > 5%",
            "source": "web-1",
            "severity": "critical",
            "timestamp": "2026-08-20T10:00:00.000Z",
            "component": "api",
            "group": "pager",
            "class": "HighErrorRate",
            "custom_details": {
                "labels": {"alertname": "HighErrorRate", "service": "api", "instance": "web-1"},
                "firing": True,
                "annotations": {
                    "summary": "5xx ratio 7.2% > 5%",
                    "runbook_url": "https://runbooks.example.com/x",
                },
                "incident": 12,
            },
        },
        "links": [
            {"href": "https://runbooks.example.com/x", "text": "Runbook"},
            {"href": "https://obs.example.com/alerts/c508c62a1b2c3d4e", "text": "Alert"},
        ],
        "client": "Pitchey Observability",
        "client_url": "https://obs.example.com",
    }


@pytest.mark.parametrize(
    ("status", "kind", "action"),
    [("resolved", "group", "resolve"), ("firing", "acknowledge", "acknowledge")],
)
def test_acknowledge_and_resolve_carry_only_key_action_and_dedup_key(
    status: str, kind: str, action: str
) -> None:
    assert render(message(view(status), kind=kind), PD_KEY) == {
        "routing_key": PD_KEY,
        "event_action": action,
        "dedup_key": "c508c62a1b2c3d4e",
    }


def test_the_summary_is_cut_to_1024_characters_and_unknown_severities_become_warning() -> None:
    event = render(message(view(annotations={"summary": "x" * 5000}, severity="page")), PD_KEY)
    assert len(event["payload"]["summary"]) == 1024
    assert event["payload"]["severity"] == "warning"


def pager_config(url: str) -> dict[str, Any]:
    return {
        "route": {"receiver": "pager", "group_wait": "0s", "group_interval": "1m"},
        "receivers": [
            {
                "name": "pager",
                "pagerduty_configs": [{"routing_key": PD_KEY, "url": url + "/v2/enqueue"}],
            }
        ],
    }


async def test_trigger_acknowledge_and_resolve_share_the_fingerprint_as_dedup_key(
    stack: Stack, http: httpx.AsyncClient, pager: Receiver
) -> None:
    await configure(http, pager_config(pager.url))
    await raise_alerts(http, event(annotations={"summary": "5xx above 5%"}))
    await stack.advance(0)
    await http.post(f"/alerts/{FP}/ack", json={"by": "alice"}, headers=ADMIN)
    await stack.advance(10)
    await raise_alerts(http, event(status="resolved"))
    await stack.advance(50)  # the group's next tick sends the resolution
    sent = bodies(pager.requests)
    assert [r.path for r in pager.requests] == ["/v2/enqueue"] * 3
    assert [(b["event_action"], b["dedup_key"], b["routing_key"]) for b in sent] == [
        ("trigger", FP, PD_KEY),
        ("acknowledge", FP, PD_KEY),
        ("resolve", FP, PD_KEY),
    ]
    assert sent[0]["payload"]["timestamp"] == at(0)
    assert sent[2] == {"routing_key": PD_KEY, "event_action": "resolve", "dedup_key": FP}


async def test_each_alert_of_a_group_is_its_own_pagerduty_event(
    stack: Stack, http: httpx.AsyncClient, pager: Receiver
) -> None:
    await configure(http, pager_config(pager.url))
    await raise_alerts(http, event(labels={"service": "api"}), event(labels={"service": "web"}))
    await stack.advance(0)
    keys = sorted(b["dedup_key"] for b in bodies(pager.requests))
    web = fingerprint("HighErrorRate", {"service": "web"})
    assert keys == sorted([FP, web])


async def test_a_pagerduty_escalation_target_is_resolved_when_the_alert_resolves(
    stack: Stack, http: httpx.AsyncClient, pager: Receiver
) -> None:
    config = pager_config(pager.url)
    config["route"] = {"receiver": "quiet", "group_wait": "0s", "escalation": "page"}
    config["receivers"].append({"name": "quiet"})
    config["escalation_policies"] = [
        {"name": "page", "levels": [{"delay": "1m", "targets": [{"receiver": "pager"}]}]}
    ]
    await configure(http, config)
    await raise_alerts(http, event())
    await stack.advance(60)
    await raise_alerts(http, event(status="resolved"))
    await stack.advance(0)
    assert [(b["event_action"], b["dedup_key"]) for b in bodies(pager.requests)] == [
        ("trigger", FP),
        ("resolve", FP),
    ]
