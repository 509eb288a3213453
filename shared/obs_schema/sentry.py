"""Report the stack's own unhandled errors to Sentry as envelopes, when a DSN is configured.

Monitoring never breaks what it observes (DESIGN §9): `SentryReporter.capture` never raises,
gives up quietly after bounded retries and counts what it drops, like sentry-python's
`capture_internal_exceptions`. Events carry the exception chain and stack frames only - never
local variables, request headers or bodies - and nothing here logs or raises the DSN's key.

Wire format: Sentry's envelope spec (`develop-docs/sdk/data-model/envelopes.mdx`) and event
payload (`.../event-payloads`); see reference/wire-formats.md B3.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import math
import platform
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from obs_schema import __version__, host
from obs_schema.stacktrace import clip, exception_values

__all__ = [
    "SentryDsn",
    "SentryReporter",
    "auth_header",
    "build_event",
    "encode_envelope",
    "parse_dsn",
]

SDK_NAME = "pitchey-obs"
MAX_TAG_CHARS = 200  # Sentry drops tag values of 200 characters or more
TIMEOUT_SECONDS = 5.0
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 0.5
MAX_RETRY_AFTER_SECONDS = 30.0

_EVENT_ID = re.compile(r"[0-9a-f]{32}")
_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class SentryDsn:
    """A parsed DSN. `repr` leaves the key out so it cannot reach a log by accident."""

    scheme: str
    public_key: str = field(repr=False)
    host: str  # with the port, if any
    path: str  # prefix before the project id: "" or e.g. "/sentry"
    project_id: str

    @property
    def envelope_url(self) -> str:
        return f"{self.scheme}://{self.host}{self.path}/api/{self.project_id}/envelope/"

    def as_url(self) -> str:
        """The DSN again (secret key dropped), for the envelope header."""
        return f"{self.scheme}://{self.public_key}@{self.host}{self.path}/{self.project_id}"


def parse_dsn(dsn: str) -> SentryDsn:
    """Parse `{scheme}://{public_key}[:{secret}]@{host}{path}/{project_id}`.

    Raises `ValueError` whose message never repeats the DSN (it holds the key).
    """
    try:
        parts = urlsplit(dsn.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except (ValueError, AttributeError):
        raise ValueError("Sentry DSN is malformed") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("Sentry DSN must start with http:// or https://")
    if not parts.username or not _KEY.fullmatch(parts.username):
        raise ValueError("Sentry DSN has no valid public key")
    address = parts.netloc.rpartition("@")[2]
    if not parts.hostname or not address:
        raise ValueError("Sentry DSN has no host")
    path, _, project_id = parts.path.rstrip("/").rpartition("/")
    if not project_id.isascii() or not project_id.isdigit():
        raise ValueError("Sentry DSN must end with a numeric project id")
    return SentryDsn(parts.scheme, parts.username, address, path, project_id)


def auth_header(dsn: SentryDsn) -> str:
    """The `X-Sentry-Auth` header value."""
    return (
        f"Sentry sentry_version=7, sentry_client={SDK_NAME}/{__version__}, "
        f"sentry_key={dsn.public_key}"
    )


# --- the event --------------------------------------------------------------------------


def build_event(
    exc: BaseException,
    *,
    worker: str,
    route: str | None,
    environment: str,
    release: str,
    event_id: str,
    timestamp: float,
) -> dict[str, Any]:
    """The Sentry event for an unhandled `exc`. Pass the route *template*, never a raw URL."""
    if not _EVENT_ID.fullmatch(event_id):
        raise ValueError("event_id must be 32 lower-case hex digits")
    values = exception_values(exc)
    values[-1]["mechanism"] = {"type": "asgi", "handled": False}
    tags = {"worker": clip(worker, MAX_TAG_CHARS - 1)}
    event: dict[str, Any] = {
        "event_id": event_id,
        "timestamp": timestamp,
        "platform": "python",
        "level": "error",
        "environment": environment,
        "release": release,
        "tags": tags,
        "sdk": {"name": SDK_NAME, "version": __version__},
        "contexts": {"runtime": {"name": "CPython", "version": platform.python_version()}},
        "exception": {"values": values},
    }
    if route is not None:
        # A query string can carry tokens; only the path is ever reported.
        tags["route"] = event["transaction"] = clip(route.split("?", 1)[0], MAX_TAG_CHARS - 1)
    return event


# --- the envelope -----------------------------------------------------------------------


def _json_line(value: Any) -> bytes:
    # ASCII-escaped compact JSON: one line, no raw newline, and its byte length is its length.
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("ascii")


def _rfc3339(epoch_seconds: float) -> str:
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode_envelope(event: dict[str, Any], dsn: SentryDsn, sent_at: float) -> bytes:
    """Envelope bytes: header line, item header with the payload's byte length, payload."""
    header = {
        "event_id": event["event_id"],
        "dsn": dsn.as_url(),
        "sent_at": _rfc3339(sent_at),
        "sdk": {"name": SDK_NAME, "version": __version__},
    }
    payload = _json_line(event)
    item = {"type": "event", "length": len(payload)}
    return b"\n".join((_json_line(header), _json_line(item), payload)) + b"\n"


# --- the transport ----------------------------------------------------------------------


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # "-0000" means UTC of unknown origin, not local time
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - host.now()
    return max(0.0, seconds) if math.isfinite(seconds) else None


class SentryReporter:
    """Sends unhandled errors of one Worker to the Sentry project of a DSN."""

    def __init__(
        self,
        dsn: str,
        *,
        worker: str,
        environment: str = "production",
        release: str = __version__,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.dsn = parse_dsn(dsn)  # ValueError (without the key) if malformed
        self.worker, self.environment, self.release = worker, environment, release
        self.sent = 0
        self.dropped = 0
        self.last_error: str | None = None
        self._transport, self._sleep, self._max_attempts = transport, sleep, max_attempts
        self._blocked_until = 0.0
        self._headers = {
            "Content-Type": "application/x-sentry-envelope",
            "X-Sentry-Auth": auth_header(self.dsn),
            "User-Agent": f"{SDK_NAME}/{__version__}",
        }

    def __repr__(self) -> str:
        return f"SentryReporter(worker={self.worker!r}, url={self.dsn.envelope_url!r})"

    async def capture(
        self, exc: BaseException, route: str | None = None, event_id: str | None = None
    ) -> str | None:
        """Report `exc`; the event id once Sentry accepted it, else None. Never raises."""
        try:
            return await self._capture(exc, route, event_id)
        except Exception as error:  # monitoring never breaks what it observes
            self._drop(f"internal {type(error).__name__}")
            return None

    async def _capture(
        self, exc: BaseException, route: str | None, event_id: str | None
    ) -> str | None:
        if host.now() < self._blocked_until:
            self._drop("rate limited by Sentry")
            return None
        if event_id is None or not _EVENT_ID.fullmatch(event_id):
            event_id = uuid.uuid4().hex
        event = build_event(
            exc,
            worker=self.worker,
            route=route,
            environment=self.environment,
            release=self.release,
            event_id=event_id,
            timestamp=host.now(),
        )
        if not await self._post(encode_envelope(event, self.dsn, sent_at=host.now())):
            return None
        self.sent += 1
        return event_id

    async def _post(self, body: bytes) -> bool:
        async with self._client() as client:
            for attempt in range(1, self._max_attempts + 1):
                delay: float | None
                try:
                    response = await client.post(
                        self.dsn.envelope_url, content=body, headers=self._headers
                    )
                except httpx.HTTPError as error:  # connection refused, timeout, reset...
                    reason, delay = type(error).__name__, self._backoff(attempt)
                else:
                    if response.is_success:
                        return True
                    reason, delay = f"HTTP {response.status_code}", self._delay(response, attempt)
                if delay is None or attempt == self._max_attempts:
                    self._drop(f"{reason} after {attempt} attempt(s)")
                    return False
                await self._sleep(delay)
        return False

    def _backoff(self, attempt: int) -> float:
        return float(BACKOFF_SECONDS * 2 ** (attempt - 1))

    def _delay(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying `response`, or None not to retry it."""
        if response.status_code == 429:
            wait = _retry_after(response)
            if wait is None:
                return self._backoff(attempt)
            if wait > MAX_RETRY_AFTER_SECONDS or attempt == self._max_attempts:
                # Honour a long back-off without holding a request open: drop until then.
                self._blocked_until = host.now() + wait
                return None
            return wait
        return self._backoff(attempt) if response.status_code >= 500 else None

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx.AsyncClient]:
        client = httpx.AsyncClient(transport=self._transport, timeout=TIMEOUT_SECONDS)
        try:
            yield client
        finally:
            if self._transport is None:  # an injected transport belongs to the caller
                await client.aclose()

    def _drop(self, reason: str) -> None:
        self.dropped += 1
        self.last_error = reason
        # Reason is a status or an exception class name: never a URL, header or the key.
        log.warning("error report of %s dropped: %s", self.worker, reason)
