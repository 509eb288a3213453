"""The shared notifier contract: `(retryable, error)`, and no error ever carries a secret.

Every channel is driven into every failure it can meet (a provider echoing the whole request
back with a 4xx or 5xx, a refused connection, a timeout, a missing secret) with its secret
settings given both as literals and as Worker secrets; neither the error, nor the log, nor the
notification log in the API may contain any secret.
"""

from __future__ import annotations

import base64
import logging
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from alerting.channels import CHANNELS
from alerting.channels.base import Context, Notifier
from alerting.channels.transport import HttpxTransport
from alerting.message import AlertView, Message
from localedge.env import Env
from localedge.stack import Stack
from tests.workers.alerting.support import READ, Echo, configure, echo_server, event, raise_alerts

pytestmark = pytest.mark.anyio

SLACK_PATH = "/services/T0SECRET/B0SECRET/XXXXsecretXXXX"
SECRETS = {
    "OBS_SLACK_URL": SLACK_PATH,  # joined to the echo server's address below
    "OBS_PD_KEY": "R0SECRET0SECRET0SECRET0SECRET0AB",
    "OBS_EMAIL_KEY": "SG.secret-email-api-key",
    "OBS_TWILIO_TOKEN": "twilio-secret-token",
    "OBS_HOOK_URL": "/hooks/secret-hook-path-0123",
    "OBS_HMAC": "hmac-secret-value",
}


def message() -> Message:
    alert = AlertView(
        "c508c62a1b2c3d4e", "Down", "firing", "critical", {"alertname": "Down"}, {}, 0
    )
    return Message(
        "r", "firing", "{}:{}", {}, (alert,), "first_notification", target="+15551230001"
    )


def settings(kind: str, base: str, by_reference: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(integration settings, providers) with secrets as literals or as {"secret": NAME}."""

    def secret(name: str, prefix: str = "") -> Any:
        return {"secret": name} if by_reference else prefix + SECRETS[name]

    providers = {
        "email": {
            "url": base + "/v3/mail/send",
            "api_key": secret("OBS_EMAIL_KEY"),
            "from": "a@b.co",
        },
        "sms": {
            "url": base + "/sms",
            "account_sid": "AC1",
            "auth_token": secret("OBS_TWILIO_TOKEN"),
            "from": "+15550000000",
        },
    }
    per_kind = {
        "slack": {"url": secret("OBS_SLACK_URL", base)},
        "pagerduty": {"routing_key": secret("OBS_PD_KEY"), "url": base + "/v2/enqueue"},
        "email": {"to": ["ops@pitchey.com"]},
        "sms": {"to": ["+15551230001"]},
        "webhook": {"url": secret("OBS_HOOK_URL", base), "hmac_secret": secret("OBS_HMAC")},
    }
    return {"send_resolved": True, **per_kind[kind]}, providers


def secret_values(base: str) -> list[str]:
    values = [v if not v.startswith("/") else base + v for v in SECRETS.values()]
    values += [v for v in SECRETS.values() if v.startswith("/")]  # the bare paths too
    values.append(base64.b64encode(f"AC1:{SECRETS['OBS_TWILIO_TOKEN']}".encode()).decode())
    return values


def notifier(kind: str, base: str, by_reference: bool, env: dict[str, str]) -> Notifier:
    raw, providers = settings(kind, base, by_reference)
    channel = CHANNELS[kind]
    from alerting.problems import Problems

    problems = Problems()
    parsed = channel.parse_settings(raw, problems)
    assert problems.details == []
    from alerting.config import _globals

    provider_settings = _globals({"email": providers["email"], "sms": providers["sms"]}, problems)[
        "providers"
    ]
    return channel.notifier(parsed, Context(Env(env), 0.0, provider_settings))


@pytest.fixture
def echo() -> Iterator[Echo]:
    with echo_server() as state:
        yield state


def env_for(base: str) -> dict[str, str]:
    return {k: (base + v if v.startswith("/") else v) for k, v in SECRETS.items()}


@pytest.mark.parametrize("kind", sorted(CHANNELS))
@pytest.mark.parametrize("by_reference", [False, True])
@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (403, False), (429, True), (500, True), (503, True)]
)
async def test_a_provider_echoing_the_request_never_makes_a_secret_appear(
    echo: Echo,
    kind: str,
    by_reference: bool,
    status: int,
    retryable: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    echo.status = status
    caplog.set_level(logging.DEBUG)
    transport = HttpxTransport()
    sender = notifier(kind, echo.url, by_reference, env_for(echo.url))
    [part] = sender.split(message())
    result = await sender.notify(part, transport, 30.0)
    await transport.close()
    assert result[0] is retryable and result[1] is not None
    assert result[1].status == status
    assert result[1].message.startswith(f"{kind}: HTTP {status} ")
    for value in secret_values(echo.url):
        assert value not in result[1].message
        assert value not in caplog.text


@pytest.mark.parametrize("kind", sorted(CHANNELS))
async def test_refused_connections_timeouts_and_missing_secrets_say_nothing_secret(
    kind: str, echo: Echo
) -> None:
    # A port bound but not listening refuses connections, and nobody else can take it.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    refused = notifier(kind, closed, False, env_for(closed))
    echo.delay_s = 0.3
    slow = notifier(kind, echo.url, True, env_for(echo.url))
    missing = notifier(kind, echo.url, True, {})
    transport = HttpxTransport()
    outcomes = [
        (await n.notify(n.split(message())[0], transport, timeout), base)
        for n, timeout, base in (
            (refused, 30.0, closed),
            (slow, 0.05, echo.url),
            (missing, 30.0, echo.url),
        )
    ]
    await transport.close()
    probe.close()
    (refused_result, _), (slow_result, _), (missing_result, _) = outcomes
    assert refused_result[0] is True and "could not connect" in refused_result[1].message
    assert slow_result[0] is True and "timed out" in slow_result[1].message
    assert missing_result[0] is False and "is not set" in missing_result[1].message
    for result, base in outcomes:
        for value in secret_values(base):
            assert value not in result[1].message


async def test_the_api_never_shows_a_secret(
    stack: Stack, http: httpx.AsyncClient, echo: Echo
) -> None:
    slack_url = echo.url + SLACK_PATH
    await configure(
        http,
        {
            "route": {"receiver": "chat", "group_wait": "0s"},
            "receivers": [{"name": "chat", "slack_configs": [{"url": slack_url}]}],
        },
    )
    await raise_alerts(http, event())
    await stack.advance(0)
    alerts = (await http.get("/alerts", headers=READ)).json()["alerts"]
    shown = [
        (await http.get("/alerts/config", headers=READ)).text,
        (await http.get(f"/alerts/{alerts[0]['id']}/notifications", headers=READ)).text,
        (await http.get("/alerts/incidents/1", headers=READ)).text,
    ]
    assert '"url":"<redacted>"' in shown[0]
    assert "slack: HTTP 400" in shown[1]
    for text in shown:
        assert SLACK_PATH not in text and slack_url not in text
