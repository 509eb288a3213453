"""Email through an HTTP email API, in SendGrid's v3 `mail/send` format.

`POST https://api.sendgrid.com/v3/mail/send` with `Authorization: Bearer <api key>` and
`{"personalizations": [{"to": [{"email"}]}], "from": {"email"}, "subject", "content": [
{"type": "text/plain"}, {"type": "text/html"}]}` (plain text first, as the API requires);
success is 202. The provider (URL, key, sender) is configured once under `global.email`; a
receiver's email integration lists its recipients; escalations email people directly.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

from alerting.channels.base import (
    USER_AGENT,
    HttpRequest,
    Notifier,
    NotifyError,
    common_settings,
    parse_secret,
)
from alerting.message import Message
from alerting.problems import Problems, listing, unknown_keys

KIND = "email"
SECRET_FIELDS = ("api_key",)
DEFAULT_URL = "https://api.sendgrid.com/v3/mail/send"
ADDRESS = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")
MAX_RECIPIENTS = 50


def parse_settings(data: Mapping[str, Any], problems: Problems) -> dict[str, Any]:
    unknown_keys(data, {"to", "send_resolved", "rate_limit"}, problems)
    settings = common_settings(data, problems, default=False)
    settings["to"] = problems.check(lambda: addresses(data.get("to")), "to")
    return settings


def addresses(value: object) -> list[str]:
    items = listing(value, "to")
    if not items or len(items) > MAX_RECIPIENTS:
        raise ValueError(f"to lists 1 to {MAX_RECIPIENTS} addresses")
    for item in items:
        if not isinstance(item, str) or not ADDRESS.fullmatch(item):
            raise ValueError("to must list email addresses")
    return list(items)


def parse_provider(data: Mapping[str, Any], problems: Problems) -> dict[str, Any]:
    """`global.email`: {url, api_key, from}."""
    unknown_keys(data, {"url", "api_key", "from"}, problems)
    url = data.get("url", DEFAULT_URL)
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        problems.add("must be an http(s) URL", "url")
    sender = data.get("from")
    if not isinstance(sender, str) or not ADDRESS.fullmatch(sender):
        problems.add("must be the sender's email address", "from")
    key = problems.check(lambda: parse_secret(data.get("api_key"), "api_key"), "api_key")
    return {"url": url, "api_key": key, "from": sender}


def text_body(message: Message) -> str:
    lines = [message.title(), ""]
    for alert in message.alerts:
        lines.append(f"- [{alert.status}] {alert.name} ({alert.severity}): {alert.summary}")
        lines.append("  " + ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items())))
        lines.append(f"  started {alert.starts_at}")
        for link in alert.links():
            lines.append(f"  {link['text']}: {link['url']}")
        if alert.status == "firing" and alert.ack_url:
            lines.append(f"  Acknowledge: {alert.ack_url}")
    if message.incident_url:
        lines += ["", f"Incident #{message.incident_id}: {message.incident_url}"]
    return "\n".join(lines) + "\n"


def html_body(message: Message) -> str:
    e = html.escape
    rows = []
    for alert in message.alerts:
        links = " · ".join(f'<a href="{e(x["url"])}">{e(x["text"])}</a>' for x in alert.links())
        ack = (
            f' · <a href="{e(alert.ack_url)}">Acknowledge</a>'
            if alert.status == "firing" and alert.ack_url
            else ""
        )
        labels = ", ".join(f"{e(k)}={e(v)}" for k, v in sorted(alert.labels.items()))
        rows.append(
            f"<li><b>{e(alert.name)}</b> [{e(alert.status)}, {e(alert.severity)}]: "
            f"{e(alert.summary)}"
            f"<br><small>{labels}; started {alert.starts_at}</small><br>{links}{ack}</li>"
        )
    return f"<h2>{e(message.title())}</h2><ul>{''.join(rows)}</ul>"


def render(message: Message, sender: str, recipients: list[str]) -> dict[str, Any]:
    return {
        "personalizations": [{"to": [{"email": a} for a in recipients]}],
        "from": {"email": sender},
        "subject": message.title()[:255],
        "content": [
            {"type": "text/plain", "value": text_body(message)},
            {"type": "text/html", "value": html_body(message)},
        ],
    }


class EmailNotifier(Notifier):
    kind = KIND

    def request(self, message: Message) -> HttpRequest:
        provider = self.context.providers.get("email")
        if not provider:
            raise NotifyError("email: no provider configured under global.email")
        recipients = [message.target] if message.target else list(self.settings.get("to") or [])
        key = self.secret_of(provider, "api_key")
        body = json.dumps(render(message, str(provider["from"]), recipients), ensure_ascii=False)
        headers = {
            "content-type": "application/json",
            "authorization": f"Bearer {key}",
            "user-agent": USER_AGENT,
        }
        return HttpRequest(str(provider["url"]), headers, body.encode(), tuple(self._secrets))

    def secret_of(self, provider: Mapping[str, Any], key: str) -> str:
        self.settings = {**self.settings, key: provider.get(key)}
        return self.secret(key)


NOTIFIER = EmailNotifier
