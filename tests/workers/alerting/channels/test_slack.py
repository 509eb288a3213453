"""Slack incoming webhook: a Block Kit message within Slack's published limits."""

from __future__ import annotations

from typing import Any

from alerting.channels.slack import escape, render
from alerting.message import AlertView, Message


def view(**overrides: Any) -> AlertView:
    fields: dict[str, Any] = {
        "fingerprint": "c508c62a1b2c3d4e",
        "name": "HighErrorRate",
        "status": "firing",
        "severity": "critical",
        "labels": {"alertname": "HighErrorRate", "service": "api"},
        "annotations": {
            "summary": "5xx ratio 7.2% > 5% for 10m",
            "runbook_url": "https://runbooks/x",
            "links": [{"url": "https://obs.example.com/apm?service=api", "text": "APM"}],
        },
        "starts_ms": 1_787_220_000_000,
        "ack_url": "https://obs.example.com/alerts/links/ACK",
        "resolve_url": "https://obs.example.com/alerts/links/RES",
    }
    return AlertView(**{**fields, **overrides})


def message(*alerts: AlertView, status: str = "firing") -> Message:
    return Message(
        receiver="team-api",
        status=status,
        group_key='{}:{alertname="HighErrorRate"}',
        group_labels={"alertname": "HighErrorRate"},
        alerts=alerts,
        reason="first_notification",
        incident_id=7,
        incident_url="https://obs.example.com/alerts/incidents/7",
    )


def test_a_firing_alert_renders_header_section_buttons_and_context() -> None:
    assert render(message(view())) == {
        "text": "[FIRING:1] HighErrorRate: 5xx ratio 7.2% &gt; 5% for 10m",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": "🔴 [FIRING:1] HighErrorRate"},
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*HighErrorRate* · `critical` · firing\n"
                    "5xx ratio 7.2% &gt; 5% for 10m\n"
                    "*alertname:* HighErrorRate  *service:* api\n"
                    "*Started* 2026-08-20T10:00:00.000Z\n"
                    "<https://runbooks/x|Runbook> · <https://obs.example.com/apm?service=api|APM>",
                },
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Acknowledge"},
                        "url": "https://obs.example.com/alerts/links/ACK",
                        "action_id": "acknowledge-c508c62a1b2c3d4e",
                        "style": "primary",
                    },
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Resolve"},
                        "url": "https://obs.example.com/alerts/links/RES",
                        "action_id": "resolve-c508c62a1b2c3d4e",
                    },
                ],
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": 'receiver `team-api` · group `{}:{alertname="HighErrorRate"}` · '
                        "<https://obs.example.com/alerts/incidents/7|incident #7>",
                    }
                ],
            },
        ],
        "unfurl_links": False,
        "unfurl_media": False,
    }


def test_resolved_and_acknowledged_alerts_get_no_buttons() -> None:
    resolved = render(
        message(view(status="resolved", ends_ms=1_787_220_600_000), status="resolved")
    )
    assert resolved["blocks"][0]["text"]["text"] == "✅ [RESOLVED:1] HighErrorRate"
    assert [b["type"] for b in resolved["blocks"]] == ["header", "section", "context"]
    acked = render(message(view(acknowledged_by="alice")))
    assert "acknowledged by alice" in acked["blocks"][1]["text"]["text"]
    assert [e["text"]["text"] for e in acked["blocks"][2]["elements"]] == ["Resolve"]


def test_a_large_group_stays_within_fifty_blocks_and_slack_text_limits() -> None:
    alerts = [
        view(
            fingerprint=f"{i:016x}",
            labels={"service": f"svc-{i}"},
            annotations={"summary": "y" * 4000},
        )
        for i in range(40)
    ]
    payload = render(message(*alerts))
    assert len(payload["blocks"]) <= 50
    assert len(payload["blocks"][0]["text"]["text"]) <= 150
    assert all(len(b["text"]["text"]) <= 3000 for b in payload["blocks"] if b["type"] == "section")
    assert payload["blocks"][-1]["elements"][0]["text"].startswith("…and 20 more alerts")


def test_mrkdwn_control_characters_are_escaped() -> None:
    assert escape("<@U123> & <!channel>") == "&lt;@U123&gt; &amp; &lt;!channel&gt;"
