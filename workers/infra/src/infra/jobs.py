"""The infra Worker's cron work (declared in wrangler.toml `[triggers] crons`)."""

from __future__ import annotations

import logging
from typing import Any

from infra import alerts, poller, store
from obs_schema import alertsink, host
from obs_schema.schedule import Schedule

WATCH_CRON = "*/5 * * * *"
log = logging.getLogger("infra.jobs")


def register(schedule: Schedule) -> None:
    # In this order, each on its own: one failing does not stop the next.
    schedule.job(WATCH_CRON)(poll_analytics)
    schedule.job(WATCH_CRON)(watch)


async def poll_analytics(env: Any, scheduled_ms: int) -> None:
    """Cloudflare's GraphQL Analytics, when CF_ACCOUNT_ID and CF_API_TOKEN are set."""
    await poller.poll(env, scheduled_ms or host.now_ms())


async def watch(env: Any, scheduled_ms: int) -> None:
    """Compact and expire every shard, detect anomalies, and raise/resolve their alerts."""
    now_ms = scheduled_ms or host.now_ms()
    await store.each(env, "maintain", now_ms)
    results = await store.each(env, "detect", now_ms)
    events = [alerts.anomaly_event(row) for r in results for row in r["opened"]]
    events += [alerts.anomaly_event(row, resolved=True) for r in results for row in r["resolved"]]
    if events:
        await alertsink.send_alerts(env, events)
