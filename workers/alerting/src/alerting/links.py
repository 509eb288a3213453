"""Signed one-click links (acknowledge, resolve) for chat and email messages.

A link carries its action, the alert's fingerprint, who it was sent to and an expiry, signed
with HMAC-SHA256 under a key only the alerting Durable Object holds. Whoever holds the link may
perform that one action on that one alert until it expires, without an API token: exactly what
a person tapping a button in Slack needs, and nothing more.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

ACTIONS = ("ack", "resolve")
DEFAULT_TTL_MS = 7 * 86_400_000


class LinkError(ValueError):
    """The link is malformed, forged or expired."""


@dataclass(frozen=True)
class Link:
    action: str
    fingerprint: str
    by: str
    expires_ms: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise LinkError("the link is malformed") from None


def sign(key: bytes, link: Link) -> str:
    if link.action not in ACTIONS:
        raise ValueError(f"unknown link action {link.action!r}")
    body = json.dumps(
        [link.action, link.fingerprint, link.by, link.expires_ms], separators=(",", ":")
    ).encode()
    mac = hmac.new(key, body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def verify(key: bytes, token: str, now_ms: int) -> Link:
    body_text, dot, mac_text = token.partition(".")
    if not dot or len(token) > 2048:
        raise LinkError("the link is malformed")
    body, mac = _unb64(body_text), _unb64(mac_text)
    if not hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), mac):
        raise LinkError("the link signature is not valid")
    try:
        action, fingerprint, by, expires = json.loads(body)
    except (ValueError, TypeError):
        raise LinkError("the link is malformed") from None
    if action not in ACTIONS or not isinstance(expires, int):
        raise LinkError("the link is malformed")
    if expires <= now_ms:
        raise LinkError("the link has expired")
    return Link(action, str(fingerprint), str(by), expires)
