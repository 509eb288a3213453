"""What every channel shares: secret settings, the HTTP seam, and the notifier contract.

A notifier renders a `Message` into its provider's exact request and sends it, returning
`(retryable, error)` as Alertmanager's notifiers do (notify/util.go): `(False, None)` when the
provider took it, `(True, error)` for 429, 5xx and network failures, `(False, error)` for any
other answer (a 400 will not get better by retrying). Errors never carry a secret: texts are
built from status codes and exception *types*, then scrubbed of every secret value the request
used, so a webhook URL or routing key cannot leak into the notification log, a log line or the
API.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

from alerting.backoff import parse_retry_after
from alerting.message import Message
from alerting.problems import Problems

REDACTED = "<redacted>"
# Secrets of the stack itself can never be used as (and so sent as) channel settings.
FORBIDDEN_SECRETS = frozenset(
    {"OBS_INGEST_TOKEN", "OBS_READ_TOKEN", "OBS_ADMIN_TOKEN", "SENTRY_DSN"}
)
_SECRET_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,127}")
_MAX_ERROR_BODY = 200
USER_AGENT = "pitchey-obs-alerting/0.1"


@dataclass(frozen=True)
class SecretRef:
    """A setting read from a Worker secret at send time: `{"secret": "OBS_SLACK_URL"}`."""

    name: str


Secret = str | SecretRef


class NotifyError(Exception):
    """Why a delivery failed; the message is already free of secrets."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class HttpRequest:
    url: str
    headers: dict[str, str]
    body: bytes
    secrets: tuple[str, ...] = ()  # values to scrub from anything said about this request
    method: str = "POST"


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class TransportError(Exception):
    """The request did not get an HTTP answer (connection refused, timeout, TLS...)."""


class Transport(Protocol):
    async def send(self, request: HttpRequest, timeout_s: float) -> HttpResponse: ...


@dataclass
class Context:
    """What a notifier needs besides its own settings."""

    env: Any
    now_s: float
    providers: Mapping[str, Any] = field(default_factory=dict)  # global email / sms settings


class Notifier(ABC):
    kind: ClassVar[str]

    def __init__(self, settings: Mapping[str, Any], context: Context) -> None:
        self.settings = settings
        self.context = context
        self._secrets: list[str] = []

    def send_resolved(self) -> bool:
        return bool(self.settings.get("send_resolved", False))

    def split(self, message: Message) -> list[Message]:
        """The messages this channel sends for `message` (PagerDuty: one per alert)."""
        if not self.send_resolved():
            firing = message.firing
            if not firing:
                return []
            message = message.only(firing) if len(firing) != len(message.alerts) else message
        return [message]

    @abstractmethod
    def request(self, message: Message) -> HttpRequest:
        """The provider's exact request for `message` (pure, apart from reading secrets)."""

    async def notify(
        self, message: Message, transport: Transport, timeout_s: float = 10.0
    ) -> tuple[bool, NotifyError | None]:
        try:
            request = self.request(message)
        except NotifyError as error:
            return False, self.scrubbed(error)
        try:
            response = await transport.send(request, timeout_s)
        except TransportError as error:
            return True, self.scrubbed(NotifyError(f"{self.kind}: {error}"))
        return self.outcome(response)

    def outcome(self, response: HttpResponse) -> tuple[bool, NotifyError | None]:
        if 200 <= response.status < 300:
            return False, None
        # Scrub the whole body before cutting it, so no secret is split at the cut.
        detail = _snippet(scrub(response.body.decode("utf-8", errors="replace"), self._secrets))
        text = f"{self.kind}: HTTP {response.status}" + (f" {detail}" if detail else "")
        retry_after = parse_retry_after(response.headers.get("retry-after"), self.context.now_s)
        error = NotifyError(text, status=response.status, retry_after_s=retry_after)
        retryable = response.status == 429 or response.status >= 500
        return retryable, self.scrubbed(error)

    def secret(self, key: str) -> str:
        """A secret setting's value, remembered for scrubbing (a URL's path and query too:
        in a Slack webhook URL, the path is the credential)."""
        value = resolve(self.settings.get(key), self.context.env, key)
        self._secrets.append(value)
        if value.startswith(("http://", "https://")):
            parts = urlsplit(value)
            self._secrets += [p for p in (parts.path, parts.query) if len(p) >= 8]
        return value

    def scrubbed(self, error: NotifyError) -> NotifyError:
        text = scrub(error.message, self._secrets)
        return NotifyError(text, status=error.status, retry_after_s=error.retry_after_s)


def scrub(text: str, secrets: list[str] | tuple[str, ...]) -> str:
    for value in sorted(set(secrets), key=len, reverse=True):
        if len(value) >= 4:
            text = text.replace(value, REDACTED)
    return text


def _snippet(text: str) -> str:
    return " ".join(text[: _MAX_ERROR_BODY * 4].split())[:_MAX_ERROR_BODY]


# --- secret settings in configuration ---------------------------------------------------


def parse_secret(value: object, what: str) -> Secret:
    """A literal string or `{"secret": "ENV_NAME"}`."""
    if isinstance(value, str) and value and value != REDACTED:
        return value
    if isinstance(value, Mapping) and set(value) == {"secret"}:
        name = value["secret"]
        if not isinstance(name, str) or not _SECRET_NAME.fullmatch(name):
            raise ValueError(f"{what}: a secret name is upper case, e.g. OBS_SLACK_WEBHOOK_URL")
        if name in FORBIDDEN_SECRETS:
            raise ValueError(f"{what}: {name} is one of the stack's own secrets")
        return SecretRef(name)
    if value == REDACTED:
        raise ValueError(f"{what}: the stored value was redacted; send it again")
    raise ValueError(f'{what} must be a string or {{"secret": "ENV_NAME"}}')


def resolve(value: object, env: Any, what: str) -> str:
    if isinstance(value, SecretRef):
        found = getattr(env, value.name, None)
        if not isinstance(found, str) or not found:
            raise NotifyError(f"the secret {value.name} ({what}) is not set")
        return found
    if isinstance(value, str):
        return value
    raise NotifyError(f"{what} is not configured")


def redact(value: object) -> object:
    """How a secret setting reads back through the API."""
    if isinstance(value, SecretRef):
        return {"secret": value.name}
    return REDACTED if value else value


def to_stored(value: object) -> object:
    """How a secret setting is stored (inside the Durable Object only)."""
    return {"secret": value.name} if isinstance(value, SecretRef) else value


def common_settings(data: Mapping[str, Any], problems: Problems, default: bool) -> dict[str, Any]:
    """`send_resolved` and `rate_limit`, shared by every channel."""
    out: dict[str, Any] = {"send_resolved": data.get("send_resolved", default)}
    if not isinstance(out["send_resolved"], bool):
        problems.add("must be true or false", "send_resolved")
    limit = data.get("rate_limit")
    if limit is not None:
        ok = isinstance(limit, Mapping) and set(limit) <= {"per_second", "burst"}
        values = list(limit.values()) if isinstance(limit, Mapping) else []
        if not ok or not all(isinstance(v, int | float) and v > 0 for v in values):
            problems.add("rate_limit is {per_second: number > 0, burst: number > 0}", "rate_limit")
        else:
            out["rate_limit"] = dict(limit)
    return out
