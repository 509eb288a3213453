"""Aggregated health, the cached summary, and the public status page (HTML and JSON)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from monitoring import aggregate, control, statuspage, summary
from obs_schema import __version__, auth, host
from obs_schema.models.health import HealthReport

router = APIRouter(prefix="/monitoring", tags=["status"])
HEALTH_PATH = "/monitoring/health"
SUMMARY_KEY = "monitoring:summary"
SUMMARY_FRESH_MS = 120_000  # the cron refreshes every minute; older means it stopped
SUMMARY_TTL_S = 86_400
PUBLIC_CACHE = "public, max-age=30"

# Per isolate: the summary last read or built, to spare KV a read per request.
_summary_cache: dict[str, Any] = {}


@router.get(
    "/health",
    summary="Aggregated health of the stack and the checks",
    description="Overall `healthy`/`degraded`/`unhealthy` for anyone; with a `read` token, "
    "each component (own storage, the other Workers, the checks) with its timing. "
    "503 when unhealthy.",
    responses={200: {"model": HealthReport}, 503: {"model": HealthReport}},
)
async def health(request: Request) -> JSONResponse:
    env = request.scope.get("env")
    detailed = request.headers.get("authorization") is not None
    if detailed:
        await auth.require("read")(request)
    await control.sync_declared(env)
    report = HealthReport.rolled_up(
        worker="monitoring", version=__version__, components=await aggregate.components(env)
    )
    shown = report if detailed else report.public()
    body = shown.model_dump(mode="json", exclude={"components"} if not detailed else None)
    return JSONResponse(body, status_code=503 if report.status == "unhealthy" else 200)


async def refresh_summary(env: Any) -> dict[str, Any]:
    """Build the summary now and cache it in KV (the cron calls this every minute)."""
    built = await summary.gather(env, host.now_ms())
    await env.CONFIG.put(SUMMARY_KEY, _dumps(built), expirationTtl=SUMMARY_TTL_S)
    _summary_cache.update(doc=built)
    return built


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


async def cached_summary(env: Any) -> dict[str, Any]:
    now = host.now_ms()
    doc: dict[str, Any] | None = _summary_cache.get("doc")
    if doc is None or now - doc["generated_ms"] > SUMMARY_FRESH_MS:
        doc = await env.CONFIG.get(SUMMARY_KEY, type="json")
    if doc is None or now - doc["generated_ms"] > SUMMARY_FRESH_MS:
        doc = await refresh_summary(env)
    _summary_cache.update(doc=doc)
    return doc


@router.get(
    "/summary",
    dependencies=[Depends(auth.require("read"))],
    summary="Overview for the dashboard, refreshed every minute",
)
async def get_summary(request: Request) -> dict[str, Any]:
    env = request.scope.get("env")
    await control.sync_declared(env)
    doc = await cached_summary(env)
    age = (host.now_ms() - doc["generated_ms"]) / 1000
    return {**{k: v for k, v in doc.items() if k != "generated_ms"}, "age_s": age}


async def _status_data(request: Request) -> dict[str, Any]:
    env = request.scope.get("env")
    await control.sync_declared(env)
    data: dict[str, Any] = await control.registry(env).status_page(host.now_ms())
    return data


@router.get("/status", response_class=HTMLResponse, summary="Public status page (HTML)")
async def status_html(request: Request) -> HTMLResponse:
    html = statuspage.render(await _status_data(request))
    return HTMLResponse(html, headers={"cache-control": PUBLIC_CACHE})


@router.get("/status.json", summary="Public status page data (JSON)")
async def status_json(request: Request) -> JSONResponse:
    return JSONResponse(await _status_data(request), headers={"cache-control": PUBLIC_CACHE})
