"""Email through SendGrid's v3 mail/send format: recipients, sender, subject, text then HTML."""

from __future__ import annotations

from typing import Any

from alerting.channels.email import html_body, render, text_body
from alerting.message import AlertView, Message


def message(**overrides: Any) -> Message:
    alert = AlertView(
        fingerprint="c508c62a1b2c3d4e",
        name="DiskFull",
        status="firing",
        severity="warning",
        labels={"alertname": "DiskFull", "host": "db-1"},
        annotations={"summary": "disk 95% <full>", "runbook_url": "https://runbooks/disk"},
        starts_ms=1_787_220_000_000,
        ack_url="https://obs.example.com/alerts/links/ACK",
    )
    fields: dict[str, Any] = {
        "receiver": "ops-mail",
        "status": "firing",
        "group_key": "{}:{}",
        "group_labels": {},
        "alerts": (alert,),
        "reason": "first_notification",
    }
    return Message(**{**fields, **overrides})


def test_the_request_body_follows_mail_send() -> None:
    body = render(message(), "alerts@pitchey.com", ["ops@pitchey.com", "db@pitchey.com"])
    assert body == {
        "personalizations": [{"to": [{"email": "ops@pitchey.com"}, {"email": "db@pitchey.com"}]}],
        "from": {"email": "alerts@pitchey.com"},
        "subject": "[FIRING:1] DiskFull",
        "content": [
            {"type": "text/plain", "value": text_body(message())},
            {"type": "text/html", "value": html_body(message())},
        ],
    }


def test_the_text_lists_each_alert_with_links_and_the_html_is_escaped() -> None:
    assert text_body(message()) == (
        "[FIRING:1] DiskFull\n\n"
        "- [firing] DiskFull (warning): disk 95% <full>\n"
        "  alertname=DiskFull, host=db-1\n"
        "  started 2026-08-20T10:00:00.000Z\n"
        "  Runbook: https://runbooks/disk\n"
        "  Acknowledge: https://obs.example.com/alerts/links/ACK\n"
    )
    assert "disk 95% &lt;full&gt;" in html_body(message())
    assert "<full>" not in html_body(message())
