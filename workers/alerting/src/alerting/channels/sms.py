"""SMS through a Twilio-style REST API: one message per recipient.

`POST https://api.twilio.com/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded
`To`, `From`, `Body`, with HTTP Basic auth `AccountSid:AuthToken` (Twilio's Messages
resource); success is 201. Messages are kept to two segments (306 GSM characters) and carry the
one-click acknowledge link. The provider is configured once under `global.sms`; a receiver's SMS
integration lists E.164 numbers; escalations text people directly.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

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

KIND = "sms"
SECRET_FIELDS = ("auth_token",)
DEFAULT_URL = "https://api.twilio.com/2010-04-01/Accounts/{account_sid}/Messages.json"
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
MAX_CHARS = 306
MAX_RECIPIENTS = 20


def parse_settings(data: Mapping[str, Any], problems: Problems) -> dict[str, Any]:
    unknown_keys(data, {"to", "send_resolved", "rate_limit"}, problems)
    settings = common_settings(data, problems, default=False)
    settings["to"] = problems.check(lambda: numbers(data.get("to")), "to")
    return settings


def numbers(value: object) -> list[str]:
    items = listing(value, "to")
    if not items or len(items) > MAX_RECIPIENTS:
        raise ValueError(f"to lists 1 to {MAX_RECIPIENTS} phone numbers")
    if not all(isinstance(item, str) and E164.fullmatch(item) for item in items):
        raise ValueError("to must list E.164 phone numbers such as +15551234567")
    return list(items)


def parse_provider(data: Mapping[str, Any], problems: Problems) -> dict[str, Any]:
    """`global.sms`: {url, account_sid, auth_token, from}."""
    unknown_keys(data, {"url", "account_sid", "auth_token", "from"}, problems)
    url = data.get("url", DEFAULT_URL)
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        problems.add("must be an http(s) URL", "url")
    sid = data.get("account_sid")
    if not isinstance(sid, str) or not sid:
        problems.add("must be the account SID", "account_sid")
    sender = data.get("from")
    if not isinstance(sender, str) or not E164.fullmatch(sender):
        problems.add("must be an E.164 number", "from")
    token = problems.check(lambda: parse_secret(data.get("auth_token"), "auth_token"), "auth_token")
    return {"url": url, "account_sid": sid, "auth_token": token, "from": sender}


def text(message: Message) -> str:
    alert = message.alerts[0] if message.alerts else None
    head = message.title()
    body = f"{head}: {alert.summary}" if alert and len(message.alerts) == 1 else head
    link = ""
    if alert and alert.status == "firing" and alert.ack_url and len(message.alerts) == 1:
        link = f" Ack: {alert.ack_url}"
    room = MAX_CHARS - len(link)
    body = body if len(body) <= room else body[: max(0, room - 1)] + "…"
    return body + link


def render(message: Message, sender: str, recipient: str) -> dict[str, str]:
    return {"To": recipient, "From": sender, "Body": text(message)}


class SmsNotifier(Notifier):
    kind = KIND

    def split(self, message: Message) -> list[Message]:
        if message.target:
            return super().split(message)
        return [
            Message(**{**part._fields(), "target": number})
            for part in super().split(message)
            for number in self.settings.get("to") or []
        ]

    def request(self, message: Message) -> HttpRequest:
        provider = self.context.providers.get("sms")
        if not provider:
            raise NotifyError("sms: no provider configured under global.sms")
        self.settings = {**self.settings, "auth_token": provider.get("auth_token")}
        token, sid = self.secret("auth_token"), str(provider["account_sid"])
        basic = base64.b64encode(f"{sid}:{token}".encode()).decode()
        self._secrets.append(basic)
        url = str(provider["url"]).replace("{account_sid}", sid)
        body = urlencode(render(message, str(provider["from"]), message.target)).encode()
        headers = {
            "content-type": "application/x-www-form-urlencoded",
            "authorization": f"Basic {basic}",
            "user-agent": USER_AGENT,
        }
        return HttpRequest(url, headers, body, tuple(self._secrets))


NOTIFIER = SmsNotifier
