"""Capacity, edge locations, rate limiting and data sources: the infra Worker's summaries."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from infra import capacity, colos, health, poller, ratelimits, store
from obs_schema import auth, host, timespec
from obs_schema.errors import BadRequest

router = APIRouter(
    prefix="/infra", tags=["resources"], dependencies=[Depends(auth.require("read"))]
)


class Resource(BaseModel):
    resource: str
    title: str
    period: str = Field(description="`daily`, `monthly` (included allowance) or `storage`.")
    limit: float
    unit: str
    hard_limit: bool = Field(description="Past it calls fail (rather than being billed).")
    source: str = Field(description="`cloudflare` (account analytics), `telemetry` or `none`.")
    current: float = Field(description="Today so far, month to date, or the current level.")
    projected: float = Field(description="At the period's end (storage: in 30 days).")
    per_day: float
    trend_per_day: float
    days_until_limit: float | None = Field(description="None: not within the horizon.")
    used: float = Field(description="current / limit")
    level: str = Field(description="`ok`, `warning` or `critical`.")
    message: str


class CapacityReport(BaseModel):
    plan: str
    resources: list[Resource]
    warnings: int


@router.get(
    "/capacity",
    summary="Usage against the Cloudflare plan's limits, with forecasts",
    description="Worker requests, KV reads and writes, Durable Object requests and storage per "
    "object, R2 operations and storage; the plan is the `INFRA_PLAN` var (`free` or `paid`).",
    response_model=CapacityReport,
)
async def get_capacity(request: Request) -> CapacityReport:
    found = await capacity.report(request.scope["env"], host.now_ms())
    return CapacityReport.model_validate(found)


@router.get(
    "/colos",
    summary="Latency and error rate per Cloudflare edge location",
    description="From the Workers' own invocations (telemetry), Cloudflare's analytics when "
    "polled, and the APM Worker's spans when it offers `colo_stats`.",
)
async def get_colos(request: Request, since: str = Query("1h")) -> dict[str, Any]:
    start = _instant(since)
    return await colos.report(request.scope["env"], start, host.now_ms())


@router.get(
    "/ratelimits",
    summary="Rate-limiting effectiveness (from the security Worker)",
    description="Allowed vs limited checks, the rules limiting most, sources that stay among "
    "the top offenders hour after hour, and the latest snapshot.",
)
async def get_ratelimits(request: Request, since: str = Query("24h")) -> dict[str, Any]:
    env, start, now = request.scope["env"], _instant(since), host.now_ms()

    async def series(metric: str, fn: str, by: list[str], step_s: int) -> list[dict[str, Any]]:
        spec = {"metric": metric, "matchers": [], "fn": fn, "by": by, "start_ms": start,
                "end_ms": now, "step_s": step_s}  # fmt: skip
        result = await store.query(env, spec, now)
        return [] if "error" in result else list(result["series"])

    span = max(60, (now - start) // 1000)
    checks, hits, sources, latest = await asyncio.gather(
        series("security_checks_total", "sum", ["action"], span),
        series("security_rate_limit_hits_total", "sum", ["rule"], span),
        series("security_top_source_score", "max", ["ip"], 3600),
        health.rate_limiting(env),
    )
    summary = ratelimits.summarize(checks, hits, sources)
    return {"since": timespec.format_rfc3339(start / 1000), **summary, "latest": latest}


@router.get("/sources", summary="Where the infra Worker's data comes from, and how fresh it is")
async def get_sources(request: Request) -> dict[str, Any]:
    env = request.scope["env"]
    sizes = await store.each(env, "stats")
    return {
        "cloudflare_analytics": await poller.status(env),
        "store": {f"shard-{i}": size for i, size in enumerate(sizes)},
        "telemetry": dict(vars(request.app.state.binding_telemetry.shipping)),
    }


def _instant(text: str) -> int:
    try:
        return int(timespec.parse_instant(text, host.now()) * 1000)
    except timespec.TimeSpecError as error:
        raise BadRequest(str(error)) from None
