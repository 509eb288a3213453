"""Retention: resolved history is forgotten on schedule; anything active never is."""

from __future__ import annotations

import httpx
import pytest

from localedge.clock import ManualClock
from localedge.stack import Stack
from tests.receiver import Receiver
from tests.workers.alerting.support import ADMIN, READ, configure, event, fingerprint, raise_alerts

pytestmark = pytest.mark.anyio
DAY = 86_400


async def test_resolved_alerts_and_their_notifications_go_after_30_days_incidents_after_180(
    stack: Stack, clock: ManualClock, http: httpx.AsyncClient, hook: Receiver
) -> None:
    await configure(
        http,
        {
            "route": {"receiver": "hook", "group_wait": "0s", "group_interval": "1m"},
            "receivers": [{"name": "hook", "webhook_configs": [{"url": hook.url}]}],
        },
    )
    await raise_alerts(http, event("Old"), event("Ongoing", labels={"service": "web"}))
    await stack.advance(0)
    await raise_alerts(http, event("Old", status="resolved"))
    await stack.advance(60)  # the resolution is notified and the alert leaves its group
    old, ongoing = (
        fingerprint("Old", {"service": "api"}),
        fingerprint("Ongoing", {"service": "web"}),
    )
    clock.advance(31 * DAY)  # quietly: only the evaluation below runs
    await http.post("/alerts/rules/evaluate", headers=ADMIN)
    assert (await http.get(f"/alerts/{old}", headers=READ)).status_code == 404
    assert (await http.get(f"/alerts/{ongoing}", headers=READ)).json()["status"] == "firing"
    assert (
        len(
            (await http.get(f"/alerts/{ongoing}/notifications", headers=READ)).json()[
                "notifications"
            ]
        )
        == 1
    )
    assert (await http.get("/alerts/incidents/1", headers=READ)).status_code == 200
    clock.advance(150 * DAY)
    await http.post("/alerts/rules/evaluate", headers=ADMIN)
    assert (await http.get("/alerts/incidents/1", headers=READ)).status_code == 404
    assert (await http.get("/alerts/incidents/2", headers=READ)).json()["status"] == "open"
