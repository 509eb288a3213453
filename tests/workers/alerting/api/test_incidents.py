"""Incidents: related alerts gathered, a merged timeline with links to the window's logs and
traces, notes, and a Markdown post-incident draft quoting the logs and APM Workers' numbers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from localedge.stack import Stack
from tests.receiver import Receiver
from tests.workers.alerting.support import (
    ADMIN,
    READ,
    at,
    configure,
    event,
    fingerprint,
    raise_alerts,
)

pytestmark = pytest.mark.anyio


async def scripted_incident(
    stack: Stack, http: httpx.AsyncClient, numbers: dict[str, Any], hook: Receiver
) -> None:
    await configure(
        http,
        {
            "route": {
                "receiver": "hook",
                "group_wait": "0s",
                "group_interval": "1m",
                "group_by": ["service"],
            },
            "receivers": [{"name": "hook", "webhook_configs": [{"url": hook.url}]}],
        },
    )
    numbers["apm"] = {
        "requests_5m": 1200,
        "error_rate_5m": 0.072,
        "p95_ms_5m": 840.0,
        "by_service_5m": {"api": {"requests": 900, "error_rate": 0.09, "p95_ms": 910.0}},
    }
    numbers["logs"] = {"records_5m": 5000, "errors_5m": 310, "errors_by_service_5m": {"api": 300}}
    await raise_alerts(http, event("HighErrorRate", annotations={"summary": "5xx above 5%"}))
    await stack.advance(30)
    await raise_alerts(http, event("LatencyHigh", severity="warning"))
    await stack.advance(90)
    await http.post(
        f"/alerts/{fingerprint('HighErrorRate', {'service': 'api'})}/ack",
        json={"by": "alice"},
        headers=ADMIN,
    )
    note = await http.post(
        "/alerts/incidents/1/notes",
        json={"text": "rolling back 1.4.2", "by": "alice"},
        headers=ADMIN,
    )
    assert note.status_code == 201
    await stack.advance(300)
    numbers["apm"] = {"requests_5m": 1300, "error_rate_5m": 0.004, "p95_ms_5m": 120.0}
    numbers["logs"] = {"records_5m": 4000, "errors_5m": 12}
    for name in ("HighErrorRate", "LatencyHigh"):
        await raise_alerts(http, event(name, status="resolved"))
    await stack.advance(60)


async def test_an_incident_gathers_its_alerts_and_resolves_with_the_last(
    stack: Stack, http: httpx.AsyncClient, numbers: dict[str, Any], hook: Receiver
) -> None:
    await scripted_incident(stack, http, numbers, hook)
    [incident] = (await http.get("/alerts/incidents?status=resolved", headers=READ)).json()[
        "incidents"
    ]
    assert {
        k: incident[k]
        for k in (
            "id",
            "title",
            "status",
            "severity",
            "services",
            "opened_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
        )
    } == {
        "id": 1,
        "title": "HighErrorRate (service=api)",
        "status": "resolved",
        "severity": "critical",
        "services": ["api"],
        "opened_at": at(0),
        "acknowledged_at": at(120),
        "acknowledged_by": "alice",
        "resolved_at": at(420),
    }
    assert incident["impact"]["at_open"] == {
        "apm": {"requests_5m": 1200, "error_rate_5m": 0.072, "p95_ms_5m": 840.0},
        "logs": {"records_5m": 5000, "errors_5m": 310},
        "services": {
            "api": {"requests": 900, "error_rate": 0.09, "p95_ms": 910.0, "log_errors": 300}
        },
        "sources": ["apm", "logs"],
    }
    assert (await http.get("/alerts/incidents?status=open", headers=READ)).json()["incidents"] == []
    assert (await http.get("/alerts/incidents/9", headers=READ)).status_code == 404


async def test_the_timeline_merges_every_kind_of_event_in_time_order(
    stack: Stack, http: httpx.AsyncClient, numbers: dict[str, Any], hook: Receiver
) -> None:
    await scripted_incident(stack, http, numbers, hook)
    timeline = (await http.get("/alerts/incidents/1/timeline", headers=READ)).json()
    assert [(e["at"], e["kind"]) for e in timeline["events"]] == [
        (at(0), "fired"),
        (at(0), "notified"),
        (at(30), "fired"),
        (at(60), "notified"),
        (at(120), "acknowledged"),
        (at(120), "note"),
        (at(420), "resolved"),
        (at(420), "resolved"),
        (at(420), "incident_resolved"),
        (at(480), "notified"),  # the group's next tick after the resolutions
    ]
    assert timeline["events"][5]["text"] == "rolling back 1.4.2"
    window = {"since": at(-900), "until": at(420)}
    assert timeline["links"]["window"] == window
    logs = timeline["links"]["logs"][0]["url"]
    assert (
        logs
        == "http://127.0.0.1:8787/logs/query?service=api&since=2026-03-02T08%3A45%3A00.000Z&until=2026-03-02T09%3A07%3A00.000Z"
    )
    assert timeline["links"]["traces"][0]["url"].startswith(
        "http://127.0.0.1:8787/apm/traces?service=api&"
    )


async def test_the_report_is_a_markdown_draft_with_impact_and_timeline(
    stack: Stack, http: httpx.AsyncClient, numbers: dict[str, Any], hook: Receiver
) -> None:
    await scripted_incident(stack, http, numbers, hook)
    reply = await http.get("/alerts/incidents/1/report", headers=READ)
    assert reply.headers["content-type"] == "text/markdown; charset=utf-8"
    text = reply.text
    assert text.startswith("# Incident #1: HighErrorRate (service=api)\n")
    for line in (
        "- **Status:** resolved",
        "- **Duration:** 7m",
        "- **Time to acknowledge:** 2m",
        "- api",
        "| measure | when opened | now |",
        "| requests (5 min) | 1200 | 1300 |",
        "| error rate (5 min) | 0.072 | 0.004 |",
        "| p95 latency, ms (5 min) | 840 | 120 |",
        "| error logs (5 min) | 310 | 12 |",
        "| api: error_rate | 0.09 | unknown |",
        "| api: log_errors | 300 | unknown |",
        f"| HighErrorRate: 5xx above 5% | critical | resolved | {at(0)} | {at(420)} |",
        "| 2026-03-02T09:02:00.000Z | note | rolling back 1.4.2 |",
        "## Root cause",
    ):
        assert line in text.splitlines(), line


async def test_a_report_without_numbers_says_so(stack: Stack, http: httpx.AsyncClient) -> None:
    await raise_alerts(http, event())
    await stack.advance(1)
    text = (await http.get("/alerts/incidents/1/report", headers=READ)).text
    assert (
        "No numbers were available from the logs and APM Workers." in text.splitlines()
        or "| requests (5 min)" in text
    )
