"""Cron work: every minute roll up, sample and evaluate thresholds; every hour archive and prune."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pydantic import ValidationError

from apm import query
from apm.rows import ALL_ROUTES
from apm.sharding import SPAN_SHARDS, STATS_SHARDS, control_stub, span_stub, stats_stub
from apm.statstore import Total
from apm.summary import merged
from apm.thresholds import Rule, alert, measure
from apm.window import MINUTE_MS, Window
from obs_schema.alertsink import send_alerts
from obs_schema.models.alert import AlertEvent
from obs_schema.schedule import Schedule

log = logging.getLogger("obs.apm.jobs")
EVERY_MINUTE = "* * * * *"
HOURLY = "17 * * * *"
MINUTE_RETENTION_DAYS = 30
HOUR_RETENTION_DAYS = 400
TRACE_INDEX_DAYS = 30
DROP_MEMORY_MS = 24 * 3600 * 1000
MAX_ARCHIVE_BATCHES = 80


def register(schedule: Schedule) -> None:
    schedule.job(EVERY_MINUTE)(every_minute)
    schedule.job(HOURLY)(hourly)


async def every_minute(env: Any, scheduled_ms: int) -> None:
    minute = scheduled_ms // MINUTE_MS
    await asyncio.gather(*(stats_stub(env, n).rollup(minute) for n in range(STATS_SHARDS)))
    config = await control_stub(env).config()
    await asyncio.gather(
        *(span_stub(env, n).sample(config["sampling"], scheduled_ms) for n in range(SPAN_SHARDS))
    )
    await evaluate_thresholds(env, config, scheduled_ms)


async def evaluate_thresholds(env: Any, config: dict[str, Any], now_ms: int) -> int:
    """Compare every rule with its window; send transitions to the alerting Worker."""
    control = control_stub(env)
    rules = [Rule.of(rule) for rule in config["thresholds"]]
    if not rules:
        return 0
    states = {(s["rule_id"], s["service"], s["route"]): s for s in await control.states()}
    now_minute = now_ms // MINUTE_MS
    apdex_t = float(config["apdex_t_ms"])
    events = []
    for rule in rules:
        win = Window(now_minute - rule.minutes, now_minute, hourly=False)
        totals = await query.totals(env, "route", win, rule.service)
        total = merged([t for (_, b), t in totals.items() if b == (rule.route or ALL_ROUTES)])
        breached, value = measure(rule, total, apdex_t)
        key = (rule.id, rule.service, rule.route or "")
        state = states.get(key)
        if breached == bool(state and state["firing"]):
            continue
        since = now_ms if breached or state is None else int(state["since_ms"])
        examples = await query.examples(
            env, "route", rule.service, rule.route or ALL_ROUTES, win, 3
        )
        trace_ids = [e["trace_id"] for e in examples]
        events.append(_event(rule, breached, value, total, trace_ids, since, now_ms, apdex_t))
        await control.set_state(rule.id, rule.service, rule.route or "", breached, since, value)
    valid = [event for event in events if event is not None]
    if valid:
        await send_alerts(env, valid)
    return len(valid)


def _event(
    rule: Rule,
    firing: bool,
    value: float | None,
    total: Total,
    trace_ids: list[str],
    since_ms: int,
    now_ms: int,
    apdex_t: float,
) -> AlertEvent | None:
    payload = alert(rule, firing, value, total, trace_ids, since_ms, now_ms, apdex_t)
    try:
        return AlertEvent.model_validate(payload)
    except ValidationError:  # e.g. a service name that is not a valid label value
        log.warning("threshold alert of rule %s could not be built", rule.id, exc_info=True)
        return None


async def hourly(env: Any, scheduled_ms: int) -> None:
    minute = scheduled_ms // MINUTE_MS
    minute_floor = minute - MINUTE_RETENTION_DAYS * 1440
    hour_floor = minute // 60 - HOUR_RETENTION_DAYS * 24
    await asyncio.gather(
        *(stats_stub(env, n).prune(minute_floor, hour_floor) for n in range(STATS_SHARDS))
    )
    for n in range(SPAN_SHARDS):
        await archive_shard(env, n, scheduled_ms)
    await span_stub(env, 0).purge_archive(scheduled_ms)


async def archive_shard(env: Any, shard: int, now_ms: int) -> None:
    stub = span_stub(env, shard)
    for _ in range(MAX_ARCHIVE_BATCHES):
        moved = await stub.archive(now_ms, shard)
        if not moved["traces"]:
            break
    before_ns = (now_ms - TRACE_INDEX_DAYS * 86_400_000) * 1_000_000
    await stub.forget(before_ns, now_ms - DROP_MEMORY_MS)
