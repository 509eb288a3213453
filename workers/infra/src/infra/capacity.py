"""Capacity: usage against the plan's limits, with a forecast and days until each limit.

Usage comes from Cloudflare's analytics (account-wide) when the poller has stored them, and
otherwise from this stack's own binding telemetry (only what these Workers do: said so in the
answer's `source`). Durable Object storage per object is measured on the store's own objects.
Daily totals are read at hourly resolution (rollups), in UTC days.
"""

from __future__ import annotations

import asyncio
import calendar
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from infra import forecast, plans, store
from infra.explain import amount

DAY_MS = 86_400_000
HISTORY_DAYS = 35
PLAN = "INFRA_PLAN"
Query = tuple[str, list[list[str]], str, list[str]]  # metric, matchers, fn, by

_A = "|".join(sorted(plans.R2_CLASS_A))
SOURCES: dict[str, tuple[Query | None, Query | None]] = {
    "workers_requests": (
        ("cloudflare_workers_requests", [], "sum", []),
        ("worker_invocations_total", [], "sum", []),
    ),
    "kv_reads": (
        ("cloudflare_kv_operations", [["action", "=", "read"]], "sum", []),
        (
            "binding_operations_total",
            [["class", "=", "kv"], ["op", "=", "get|getWithMetadata"]],
            "sum",
            [],
        ),
    ),
    "kv_writes": (
        ("cloudflare_kv_operations", [["action", "=", "write|delete|list"]], "sum", []),
        (
            "binding_operations_total",
            [["class", "=", "kv"], ["op", "=", "put|delete|list"]],
            "sum",
            [],
        ),
    ),
    "do_requests": (
        ("cloudflare_do_requests", [], "sum", []),
        ("binding_operations_total", [["class", "=", "do"]], "sum", []),
    ),
    "r2_class_a": (
        ("cloudflare_r2_operations", [["action", "=", _A]], "sum", []),
        (
            "binding_operations_total",
            [["class", "=", "r2"], ["op", "=", "put|list|createMultipartUpload"]],
            "sum",
            [],
        ),
    ),
    "r2_class_b": (
        ("cloudflare_r2_operations", [["action", "!=", _A]], "sum", []),
        ("binding_operations_total", [["class", "=", "r2"], ["op", "=", "get|head"]], "sum", []),
    ),
    "r2_storage": (("cloudflare_r2_storage_bytes", [], "max", ["bucket"]), None),
    "do_storage_per_object": (None, ("infra_do_storage_bytes", [], "max", ["object"])),
}


@dataclass
class Usage:
    source: str  # "cloudflare", "telemetry" or "none"
    days: list[float]  # per UTC day, oldest first, ending with today (so far)


def plan_of(env: Any) -> str:
    value = getattr(env, PLAN, None)
    return value if isinstance(value, str) and value.lower() in plans.PLANS else "paid"


async def report(env: Any, now_ms: int) -> dict[str, Any]:
    plan = plan_of(env)
    limits = plans.plan_limits(plan)
    usages = await asyncio.gather(*(_usage(env, limit, now_ms) for limit in limits))
    resources = [_assess(limit, usage, now_ms) for limit, usage in zip(limits, usages, strict=True)]
    warnings = [r for r in resources if r["level"] != "ok"]
    return {"plan": plan, "resources": resources, "warnings": len(warnings)}


async def _usage(env: Any, limit: plans.Limit, now_ms: int) -> Usage:
    for source, spec in zip(("cloudflare", "telemetry"), SOURCES[limit.resource], strict=True):
        if spec is None:
            continue
        metric, matchers, fn, by = spec
        first = (now_ms // DAY_MS - HISTORY_DAYS + 1) * DAY_MS
        query = {"metric": metric, "matchers": matchers, "fn": fn, "by": by,
                 "start_ms": first, "end_ms": now_ms, "step_s": 86_400}  # fmt: skip
        result = await store.query(env, query, now_ms)
        if "error" in result or not result["series"]:
            continue
        days = [
            sum(s["values"][i] or 0.0 for s in result["series"])
            for i in range(len(result["series"][0]["values"]))
        ]
        # History starts with the first day that saw any usage, not with empty days before.
        first_used = next((i for i, v in enumerate(days) if v), len(days) - 1)
        return Usage(source, days[first_used:])
    return Usage("none", [])


def _assess(limit: plans.Limit, usage: Usage, now_ms: int) -> dict[str, Any]:
    now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    elapsed = (now_ms % DAY_MS) / DAY_MS
    days, today = usage.days[:-1], usage.days[-1] if usage.days else 0.0
    if limit.period == "storage":
        result = forecast.storage(usage.days, limit.limit)
    elif limit.period == "daily":
        result = forecast.daily(days[-14:], today, elapsed, limit.limit)
    else:
        in_month = usage.days[-now.day :] if usage.days else []
        month_days = calendar.monthrange(now.year, now.month)[1]
        result = forecast.monthly(days[-14:], sum(in_month), month_days - now.day + 1 - elapsed,
                                  limit.limit)  # fmt: skip
    if usage.source == "none":
        result = forecast.Forecast(0.0, 0.0, 0.0, 0.0, None, 0.0, "ok")
    return {
        "resource": limit.resource,
        "title": limit.title,
        "period": limit.period,
        "limit": limit.limit,
        "unit": limit.unit,
        "hard_limit": limit.hard,
        "source": usage.source,
        **asdict(result),
        "message": message(limit, result, usage.source),
    }


def message(limit: plans.Limit, f: forecast.Forecast, source: str) -> str:
    if source == "none":
        return f"{limit.title}: no usage data yet."

    def show(value: float) -> str:
        return amount(value, "By" if limit.unit == "bytes" else "", False)

    now = {"daily": "today", "monthly": "this month", "storage": "now"}[limit.period]
    text = f"{limit.title}: {show(f.current)} of {show(limit.limit)} {now} ({f.used:.0%})"
    if f.days_until_limit == 0 and f.level != "ok":
        text += "; the limit is reached " + ("today" if limit.period == "daily" else "now")
    elif f.days_until_limit is not None:
        text += f"; at this pace the limit is reached in {f.days_until_limit:.0f} day(s)"
    if limit.period != "storage":
        period = "day" if limit.period == "daily" else "month"
        text += f"; projected {show(f.projected)} by the end of the {period}"
    return text + "."
