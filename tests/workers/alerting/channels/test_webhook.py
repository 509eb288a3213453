"""Generic webhook: Alertmanager's version 4 payload, `max_alerts`, and the HMAC signature."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from alerting.channels.base import Context
from alerting.channels.webhook import WebhookNotifier, render, signature
from alerting.message import AlertView, Message
from localedge.env import Env


def alert(i: int, status: str = "firing") -> AlertView:
    return AlertView(
        fingerprint=f"{i:016x}",
        name="HighErrorRate",
        status=status,
        severity="critical",
        labels={"alertname": "HighErrorRate", "service": "api", "instance": f"web-{i}"},
        annotations={"summary": "5xx ratio > 5%", "links": [{"url": "https://a/b", "text": "x"}]},
        starts_ms=1_787_220_000_000,
        ends_ms=1_787_220_600_000 if status == "resolved" else None,
        generator_url="http://prom/graph?g0.expr=x",
    )


def message(*alerts: AlertView) -> Message:
    return Message(
        "team-api-pager",
        "firing" if any(a.status == "firing" for a in alerts) else "resolved",
        '{}:{alertname="HighErrorRate"}',
        {"alertname": "HighErrorRate"},
        alerts,
        "first_notification",
        external_url="http://alertmanager:9093",
    )


def expected_alert(i: int, status: str, ends: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "HighErrorRate", "service": "api", "instance": f"web-{i}"},
        "annotations": {"summary": "5xx ratio > 5%", "links": "https://a/b"},
        "startsAt": "2026-08-20T10:00:00.000Z",
        "endsAt": ends,
        "generatorURL": "http://prom/graph?g0.expr=x",
        "fingerprint": f"{i:016x}",
    }


def test_the_payload_is_alertmanager_version_4() -> None:
    assert render(message(alert(1), alert(2, "resolved"))) == {
        "version": "4",
        "groupKey": '{}:{alertname="HighErrorRate"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "team-api-pager",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {"alertname": "HighErrorRate", "service": "api"},
        "commonAnnotations": {"summary": "5xx ratio > 5%", "links": "https://a/b"},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            expected_alert(1, "firing", "0001-01-01T00:00:00Z"),
            expected_alert(2, "resolved", "2026-08-20T10:10:00.000Z"),
        ],
    }


def test_max_alerts_truncates_and_counts_the_rest() -> None:
    payload = render(message(*(alert(i) for i in range(5))), max_alerts=2)
    assert [a["fingerprint"] for a in payload["alerts"]] == [f"{0:016x}", f"{1:016x}"]
    assert payload["truncatedAlerts"] == 3


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    notifier = WebhookNotifier(
        {"url": "https://hooks.example.com/x", "hmac_secret": "k3y", "send_resolved": True},
        Context(Env({}), 1_787_220_000.9, {}),
    )
    request = notifier.request(message(alert(1)))
    assert request.headers["x-obs-timestamp"] == "1787220000"
    mac = hmac.new(b"k3y", b"1787220000." + request.body, hashlib.sha256).hexdigest()
    assert (
        request.headers["x-obs-signature"]
        == f"sha256={mac}"
        == signature("k3y", "1787220000", request.body)
    )
    assert json.loads(request.body)["version"] == "4"
