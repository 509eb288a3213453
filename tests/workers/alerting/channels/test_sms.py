"""SMS through Twilio's Messages resource: form fields, Basic auth, one message per number."""

from __future__ import annotations

from alerting.channels.base import Context
from alerting.channels.sms import MAX_CHARS, SmsNotifier, render, text
from alerting.message import AlertView, Message
from localedge.env import Env

PROVIDER = {
    "url": "https://api.twilio.com/2010-04-01/Accounts/{account_sid}/Messages.json",
    "account_sid": "AC0123",
    "auth_token": "tw-token",
    "from": "+15550000000",
}


def message(summary: str = "api down", target: str = "") -> Message:
    alert = AlertView(
        fingerprint="c508c62a1b2c3d4e",
        name="ApiDown",
        status="firing",
        severity="critical",
        labels={"alertname": "ApiDown"},
        annotations={"summary": summary},
        starts_ms=0,
        ack_url="https://obs.example.com/alerts/links/ACK",
    )
    return Message("oncall", "firing", "{}:{}", {}, (alert,), "first_notification", target=target)


def test_the_form_has_to_from_and_a_body_with_the_ack_link() -> None:
    assert render(message(target="+15551230001"), "+15550000000", "+15551230001") == {
        "To": "+15551230001",
        "From": "+15550000000",
        "Body": "[FIRING:1] ApiDown: api down Ack: https://obs.example.com/alerts/links/ACK",
    }


def test_long_texts_are_cut_to_two_segments_keeping_the_link() -> None:
    body = text(message("z" * 1000))
    assert len(body) == MAX_CHARS
    assert body.endswith(" Ack: https://obs.example.com/alerts/links/ACK")


def test_each_number_gets_its_own_request_with_basic_auth() -> None:
    notifier = SmsNotifier(
        {"to": ["+15551230001", "+15551230002"], "send_resolved": False},
        Context(Env({}), 0.0, {"sms": PROVIDER}),
    )
    parts = notifier.split(message())
    assert [p.target for p in parts] == ["+15551230001", "+15551230002"]
    request = notifier.request(parts[0])
    assert request.url == "https://api.twilio.com/2010-04-01/Accounts/AC0123/Messages.json"
    assert request.headers["authorization"] == "Basic QUMwMTIzOnR3LXRva2Vu"  # AC0123:tw-token
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.body.startswith(b"To=%2B15551230001&From=%2B15550000000&Body=")
