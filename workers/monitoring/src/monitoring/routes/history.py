"""History: uptime per window, latency percentiles, incidents, and the monthly SLA report."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from monitoring import control, sla, views
from monitoring.store import decode_cursor, encode_cursor
from monitoring.uptime import STANDARD_WINDOWS
from obs_schema import auth, host
from obs_schema.errors import NotFound, Unprocessable
from obs_schema.timespec import TimeSpecError, parse_duration, parse_window

router = APIRouter(prefix="/monitoring", tags=["history"])
READ = [Depends(auth.require("read"))]
FANOUT = 16  # monitors asked at once for latency figures
MAX_WINDOW_MS = 90 * 86_400_000


def _windows(window: str | None) -> dict[str, int]:
    if window is None:
        return dict(STANDARD_WINDOWS)
    try:
        span = round(parse_duration(window) * 1000)
    except TimeSpecError as error:
        raise Unprocessable(f"window: {error}") from None
    if not 0 < span <= MAX_WINDOW_MS:
        raise Unprocessable("window: must be more than 0 and at most 90d")
    return {window: span}


async def _latencies(env: Any, ids: list[str], windows: dict[str, int], now: int) -> dict[str, Any]:
    gate = asyncio.Semaphore(FANOUT)

    async def one(check_id: str) -> tuple[str, dict[str, Any]]:
        async with gate:
            stub = control.monitor(env, check_id)
            figures = {
                label: await stub.latency(now - span, now + 1) for label, span in windows.items()
            }
            return check_id, figures

    return dict(await asyncio.gather(*(one(i) for i in ids)))


@router.get("/uptime", dependencies=READ, summary="Uptime % and latency percentiles per check")
async def uptime(
    request: Request,
    check: str | None = Query(None, description="A check id (default: every check)."),
    window: str | None = Query(None, description="`24h`, `7d`... (default: 24h, 7d, 30d, 90d)."),
) -> dict[str, Any]:
    env = request.scope.get("env")
    await control.sync_declared(env)
    windows, now = _windows(window), host.now_ms()
    report: dict[str, Any] = await control.registry(env).uptime(
        None if check is None else [check], windows, now
    )
    if check is not None and not report["checks"]:
        raise NotFound(f"no check with id {check!r}")
    latencies = await _latencies(env, [c["id"] for c in report["checks"]], windows, now)
    for row in report["checks"]:
        for label, figures in row["windows"].items():
            figures["latency"] = latencies[row["id"]][label]
    return {"time": views.when(now), **report}


@router.get("/incidents", dependencies=READ, summary="Down periods, newest first")
async def incidents(
    request: Request,
    check: str | None = Query(None),
    state: Literal["open", "resolved"] | None = Query(None),
    since: str | None = Query(None, description="Default 30d ago."),
    until: str | None = Query(None),
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = Query(None),
) -> dict[str, Any]:
    env = request.scope.get("env")
    now = host.now_ms()
    try:
        start, end = parse_window(since, until, now / 1000, default_span=30 * 86_400.0)
    except TimeSpecError as error:
        raise Unprocessable(str(error)) from None
    query = {
        "check_id": check,
        "state": state,
        "since": round(start * 1000),
        "until": round(end * 1000) + 1,
        "limit": limit,
        "before": decode_cursor(cursor).get("before"),
    }
    registry = control.registry(env)
    page = await registry.incidents(query)
    names = await registry.names()
    following = page["next"]
    return {
        "incidents": [views.incident(row, names, now) for row in page["incidents"]],
        "cursor": encode_cursor({"before": following}) if following else None,
    }


@router.get(
    "/reports/sla",
    dependencies=READ,
    summary="Monthly SLA report per check (JSON, or CSV with format=csv)",
    responses={200: {"content": {"text/csv": {}}}},
)
async def sla_report(
    request: Request,
    month: str | None = Query(None, description="YYYY-MM (default: this month so far)."),
    format: Literal["json", "csv"] = Query("json"),
) -> Any:
    env = request.scope.get("env")
    now = host.now_ms()
    try:
        label, start, end = sla.month_bounds(month, now)
    except ValueError as error:
        raise Unprocessable(f"month: {error}") from None
    rows: list[dict[str, Any]] = await control.registry(env).sla(start, end, now)
    if format == "csv":
        headers = {"content-disposition": f'attachment; filename="sla-{label}.csv"'}
        return Response(sla.to_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
    return {
        "month": label,
        "start": views.when(start),
        "end": views.when(end),
        "generated_at": views.when(now),
        "checks": rows,
    }
