"""ASGI middleware every Worker runs outermost: request metrics and the last line of defence.

It counts every request by route template, method and status, times it into a histogram, and
turns any unhandled exception into the JSON error model (500, an event id, nothing else) while
reporting the exception to Sentry in the background when `SENTRY_DSN` is configured.

With `telemetry`, it also hands the app an `env` whose KV, R2, Durable Object and service
bindings are timed, and records the invocation (wall time, status, subrequests, colo); the
telemetry batch ships after the response. Telemetry never changes what the app sees or answers.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from obs_schema import host
from obs_schema.errors import error_payload
from obs_schema.metrics import Counter, Histogram, Registry
from obs_schema.telemetry import Invocation, Telemetry

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
log = logging.getLogger("obs.instrumentation")


class ErrorReporter(Protocol):
    async def capture(
        self, exc: BaseException, route: str | None = None, event_id: str | None = None
    ) -> str | None: ...


ReporterFactory = Callable[[Any], ErrorReporter | None]


class RequestMetrics:
    """The HTTP series every Worker exposes on /metrics."""

    def __init__(self, registry: Registry) -> None:
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests served, by route template, method and status code.",
            ("route", "method", "status"),
            registry=registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to serve an HTTP request, by route template and method.",
            ("route", "method"),
            registry=registry,
        )
        self.unhandled = Counter(
            "http_unhandled_errors_total",
            "Requests that raised an unexpected error (answered 500).",
            registry=registry,
        )

    def record(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, method=method, status=status).inc()
        self.duration.labels(route=route, method=method).observe(seconds)


class Instrumentation:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: RequestMetrics,
        reporter: ReporterFactory,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.reporter = reporter
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        env = scope.get("env")
        invocation = self._start(scope, env)
        if invocation is not None and self.telemetry is not None:
            scope = dict(scope, env=self.telemetry.wrap_env(env))
        started = time.perf_counter()
        response: dict[str, Any] = {"status": 500, "started": False}

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                response.update(status=message["status"], started=True)
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            response["status"] = 500
            self.metrics.unhandled.inc()
            event_id = self._report(scope, exc)
            if not response["started"]:
                await _internal_error(send, event_id)
        finally:
            route = route_template(scope)
            elapsed = time.perf_counter() - started
            self.metrics.record(route, scope.get("method", "GET"), response["status"], elapsed)
            if invocation is not None and self.telemetry is not None:
                self.telemetry.finish(invocation, response["status"], env)

    def _start(self, scope: Scope, env: Any) -> Invocation | None:
        if self.telemetry is None or env is None:
            return None
        try:
            return self.telemetry.start(_header(scope, b"cf-ray"))
        except Exception:
            log.exception("telemetry could not start; serving the request without it")
            return None

    def _report(self, scope: Scope, exc: Exception) -> str:
        event_id = uuid.uuid4().hex
        route = route_template(scope)
        # Log type and id only: an exception's message may carry user input or secrets.
        log.error("unhandled %s on %s (event %s)", type(exc).__name__, route, event_id)
        try:
            reporter = self.reporter(scope.get("env"))
            if reporter is not None:
                host.defer(reporter.capture(exc, route=route, event_id=event_id))
        except Exception:
            log.error("error reporting failed for event %s", event_id)
        return event_id


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def route_template(scope: Scope) -> str:
    """`/logs/trace/{trace_id}` rather than the raw path, so label cardinality stays bounded."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


async def _internal_error(send: Send, event_id: str) -> None:
    payload = error_payload(
        "internal", f"internal error (event {event_id})", [{"event_id": event_id}]
    )
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})
