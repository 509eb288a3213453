"""How every Worker raises an alert: RPC to the alerting Worker over its service binding.

Contract (the alerting Worker's `Default` implements it):
    `await env.ALERTING.receive_alerts(events: list[dict]) -> {"accepted": int, "rejected": [...]}`
where each dict is an `AlertEvent` dumped with `model_dump(mode="json")`. A caller may pass
such dicts itself instead of models (the logs Worker does, once per ingest batch: the
alerting Worker validates every event it receives, so a model would only validate it twice).
Service-binding RPC never leaves Cloudflare, so it needs no token. Sending never raises into
the caller: an alert that cannot be delivered is counted and logged, and the caller's own work
goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from obs_schema.models.alert import AlertEvent

BINDING = "ALERTING"
log = logging.getLogger("obs.alertsink")


@dataclass
class SinkStats:
    sent: int = 0
    failed: int = 0
    last_error: str | None = None


stats = SinkStats()


async def send_alerts(env: Any, events: Sequence[AlertEvent | Mapping[str, Any]]) -> bool:
    """Deliver `events` (models, or their JSON dumps); True when the alerting Worker accepted
    the batch."""
    if not events:
        return True
    binding = getattr(env, BINDING, None)
    if binding is None:
        return _failed(len(events), "no ALERTING service binding")
    payload = [
        event.model_dump(mode="json") if isinstance(event, AlertEvent) else dict(event)
        for event in events
    ]
    try:
        reply = await binding.receive_alerts(payload)
    except Exception as error:
        return _failed(len(events), f"{type(error).__name__}: {error}"[:200])
    stats.sent += int(reply.get("accepted", 0)) if isinstance(reply, dict) else 0
    return True


def _failed(count: int, reason: str) -> bool:
    stats.failed += count
    stats.last_error = reason
    log.warning("could not deliver %d alert(s): %s", count, reason)
    return False
