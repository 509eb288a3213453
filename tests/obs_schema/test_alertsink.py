"""Raising an alert never breaks the caller; what cannot be delivered is counted."""

from __future__ import annotations

from typing import Any

import pytest

from localedge.env import Env
from obs_schema import alertsink
from obs_schema.models.alert import AlertEvent

EVENT = AlertEvent(name="HighErrorRate", severity="critical", labels={"service": "api"})


class AlertingWorker:
    """Stands in for the alerting Worker's RPC surface (its own tests cover the real one)."""

    def __init__(self, fail: bool = False) -> None:
        self.received: list[list[dict[str, Any]]] = []
        self.fail = fail

    async def receive_alerts(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        if self.fail:
            raise RuntimeError("alerting is down")
        self.received.append(events)
        return {"accepted": len(events), "rejected": []}


@pytest.mark.anyio
async def test_events_travel_as_json_dicts_over_the_binding() -> None:
    worker = AlertingWorker()
    assert await alertsink.send_alerts(Env({"ALERTING": worker}), [EVENT]) is True
    [[sent]] = worker.received
    assert sent["name"] == "HighErrorRate" and sent["labels"]["service"] == "api"
    assert sent["fingerprint"] == EVENT.fingerprint


@pytest.mark.parametrize(
    ("env", "reason"),
    [(Env({}), "no ALERTING"), (Env({"ALERTING": AlertingWorker(fail=True)}), "alerting is down")],
)
@pytest.mark.anyio
async def test_undeliverable_alerts_are_counted_not_raised(env: Env, reason: str) -> None:
    before = alertsink.stats.failed
    assert await alertsink.send_alerts(env, [EVENT, EVENT]) is False
    assert alertsink.stats.failed == before + 2
    assert reason in (alertsink.stats.last_error or "")
