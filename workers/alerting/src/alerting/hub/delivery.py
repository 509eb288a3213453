"""Delivering due notifications: throttle, send, log the attempt, schedule the retry.

Runs inside the Durable Object's alarm, so retries are alarms too: exact, persistent across
restarts, and never a sleep. Sends of one batch go out concurrently (bounded); each result is
written as an attempt: `delivered`, `retry` (429, 5xx, network: exponential backoff with
jitter, at least `Retry-After`), or `failed` (any other 4xx, a missing secret, or attempts
exhausted).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alerting.channels import CHANNELS
from alerting.channels.base import Context, Notifier, NotifyError, Transport
from alerting.channels.transport import HttpxTransport
from alerting.config import AlertingConfig
from alerting.hub.incidents import Incidents
from alerting.hub.outbox import Attempt, Outbox, Pending
from alerting.throttle import limit_for
from obs_schema import host

BATCH = 200
CONCURRENCY = 16
log = logging.getLogger("obs.alerting.delivery")


@dataclass
class Result:
    pending: Pending
    retryable: bool
    error: NotifyError | None
    duration_ms: int


def person_key(person: str, kind: str) -> str:
    return f"person:{person}/{kind}"


class Courier:
    def __init__(
        self,
        outbox: Outbox,
        incidents: Incidents,
        config: AlertingConfig,
        env: Any,
        transport: Callable[[], Transport] = HttpxTransport,
    ) -> None:
        self.outbox, self.incidents, self.config, self.env = outbox, incidents, config, env
        self.transport = transport

    def notifier(self, kind: str, integration: str, now_ms: int) -> Notifier | None:
        context = Context(self.env, now_ms / 1000, self.config.providers)
        channel = CHANNELS.get(kind)
        if channel is None:
            return None
        if integration.startswith("person:"):
            return channel.notifier({"send_resolved": True}, context)
        found = self.config.integration(integration)
        return None if found is None else channel.notifier(found.settings, context)

    async def deliver(self, now_ms: int) -> int:
        """Send what is due now; returns how many attempts were made."""
        ready: list[tuple[Pending, Notifier]] = []
        for pending in self.outbox.due(now_ms, BATCH):
            notifier = self.notifier(pending.kind, pending.integration, now_ms)
            if notifier is None:
                error = NotifyError(f"{pending.integration} is no longer configured")
                self._record(Result(pending, False, error, 0), now_ms)
                continue
            limit = limit_for(pending.kind, notifier.settings.get("rate_limit"))
            wait = self.outbox.take_token(pending.integration, limit, now_ms)
            if wait:
                self.outbox.defer(pending.id, now_ms + wait, now_ms)
                continue
            ready.append((pending, notifier))
        if not ready:
            return 0
        transport, gate = self.transport(), asyncio.Semaphore(CONCURRENCY)
        results = await asyncio.gather(*(self._send(p, n, transport, gate) for p, n in ready))
        for result in results:
            self._record(result, now_ms)
        return len(results)

    async def _send(
        self, pending: Pending, notifier: Notifier, transport: Transport, gate: asyncio.Semaphore
    ) -> Result:
        async with gate:
            started = host.now()
            timeout = self.config.delivery.timeout_ms / 1000
            try:
                retryable, error = await notifier.notify(pending.message, transport, timeout)
            except Exception as unexpected:  # a bug must not wedge the outbox
                # The type only: an exception's text might quote a secret setting.
                log.error("notifier %s raised %s", pending.kind, type(unexpected).__name__)
                retryable = True
                error = NotifyError(f"{pending.kind}: internal error ({type(unexpected).__name__})")
            return Result(pending, retryable, error, round((host.now() - started) * 1000))

    def _record(self, result: Result, now_ms: int) -> None:
        pending, error = result.pending, result.error
        number = pending.attempts + 1
        backoff = self.config.delivery.backoff
        if error is None:
            outcome, retry_ms = "delivered", None
        elif result.retryable and not backoff.exhausted(number):
            delay = backoff.delay_ms(str(pending.id), number, error.retry_after_s)
            outcome, retry_ms = "retry", now_ms + delay
        else:
            outcome, retry_ms = "failed", None
        status = error.status if error else 200
        attempt = Attempt(
            number,
            now_ms,
            result.duration_ms,
            status,
            outcome,
            error.message if error else None,
            retry_ms,
        )
        self.outbox.record(pending.id, attempt, now_ms)
        if outcome != "retry":
            self._timeline(pending, outcome, attempt, now_ms)

    def _timeline(self, pending: Pending, outcome: str, attempt: Attempt, now_ms: int) -> None:
        who = pending.message.target or pending.receiver
        what = f"{pending.kind} to {who}"
        fingerprints = [a.fingerprint for a in pending.message.alerts]
        for incident_id in self.outbox.incidents_of(pending.id):
            if outcome == "delivered":
                text = f"notified {what} ({pending.purpose}, attempt {attempt.number})"
                self.incidents.record(
                    incident_id,
                    "notified",
                    text,
                    now_ms,
                    detail={"notification": pending.id, "alerts": fingerprints},
                )
            else:
                text = (
                    f"notification {what} failed after {attempt.number} attempt(s): {attempt.error}"
                )
                self.incidents.record(
                    incident_id,
                    "notification_failed",
                    text,
                    now_ms,
                    detail={"notification": pending.id},
                )
