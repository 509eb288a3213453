"""The infra Worker's cron work (declared in wrangler.toml `[triggers] crons`)."""

from __future__ import annotations

import json
import logging
from typing import Any

from infra import alerts, capacity, poller, ratelimits, store
from infra.samples import Batch
from obs_schema import alertsink, host
from obs_schema.schedule import Schedule

WATCH_CRON = "*/5 * * * *"
CAPACITY_EVERY_MS = 3_600_000
WARNINGS_KEY = "infra:capacity:warnings"
log = logging.getLogger("infra.jobs")


def register(schedule: Schedule) -> None:
    # In this order, each on its own: one failing does not stop the next.
    schedule.job(WATCH_CRON)(poll_analytics)
    schedule.job(WATCH_CRON)(measure_objects)
    schedule.job(WATCH_CRON)(sample_security)
    schedule.job(WATCH_CRON)(watch)
    schedule.job(WATCH_CRON)(plan_capacity)


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


async def sample_security(env: Any, scheduled_ms: int) -> None:
    """Rate-limiting figures from the security Worker, when it answers."""
    now_ms = scheduled_ms or host.now_ms()
    batch = Batch()
    await ratelimits.sample(env, batch, now_ms)
    if batch.points:
        await store.write(env, batch, now_ms)


async def measure_objects(env: Any, scheduled_ms: int) -> None:
    """The store's own Durable Object sizes, as `infra_do_storage_bytes{object}`."""
    now_ms = scheduled_ms or host.now_ms()
    sizes = await store.each(env, "stats")
    batch = Batch()
    for index, size in enumerate(sizes):
        labels = {"object": f"MetricsShard/shard-{index}"}
        batch.number("infra_do_storage_bytes", labels, now_ms, float(size["database_bytes"]),
                     counter=False, unit="By")  # fmt: skip
    await store.write(env, batch, now_ms)


async def plan_capacity(env: Any, scheduled_ms: int) -> None:
    """Hourly: forecast usage against the plan; raise and resolve capacity alerts on change."""
    now_ms = scheduled_ms or host.now_ms()
    kv = getattr(env, "CONFIG", None)
    raw = await kv.get(WARNINGS_KEY) if kv is not None else None
    previous: dict[str, Any] = json.loads(raw) if raw else {}
    if raw is not None and now_ms % CAPACITY_EVERY_MS >= 300_000:
        return  # once an hour (the first run on a fresh store runs at once)
    found = await capacity.report(env, now_ms)
    current = {
        r["resource"]: {"level": r["level"], "message": r["message"], "plan": found["plan"]}
        for r in found["resources"]
        if r["level"] != "ok"
    }
    events = [
        alerts.capacity_event({"resource": k, **v})
        for k, v in current.items()
        if previous.get(k, {}).get("level") != v["level"]
    ]
    events += [
        alerts.capacity_event({"resource": k, **v}, resolved=True)
        for k, v in previous.items()
        if k not in current
    ]
    if events:
        await alertsink.send_alerts(env, events)
    if kv is not None and (current != previous or raw is None):
        await kv.put(WARNINGS_KEY, json.dumps(current))
