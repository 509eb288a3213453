"""The infra Worker's cron work (declared in wrangler.toml `[triggers] crons`)."""

from __future__ import annotations

import logging
from typing import Any

from infra import alerts, store
from obs_schema import alertsink, host
from obs_schema.schedule import Schedule

WATCH_CRON = "*/5 * * * *"
log = logging.getLogger("infra.jobs")


def register(schedule: Schedule) -> None:
    schedule.job(WATCH_CRON)(watch)


async def watch(env: Any, scheduled_ms: int) -> None:
    """Compact and expire every shard, detect anomalies, and raise/resolve their alerts."""
    now_ms = scheduled_ms or host.now_ms()
    await store.each(env, "maintain", now_ms)
    results = await store.each(env, "detect", now_ms)
    events = [alerts.anomaly_event(row) for r in results for row in r["opened"]]
    events += [alerts.anomaly_event(row, resolved=True) for r in results for row in r["resolved"]]
    if events:
        await alertsink.send_alerts(env, events)
