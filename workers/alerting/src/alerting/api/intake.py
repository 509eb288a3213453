"""Ways in: `POST /alerts/events` and the Alertmanager API v2 (`/api/v2/alerts`, silences)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from alerting import amapi, ingestion, intake
from alerting.api.bodies import EVENT_EXAMPLE, SILENCE_EXAMPLE, IngestResult
from alerting.api.common import Admin, Ingester, Reader, env_of
from alerting.client import Hub
from alerting.telemetry import AlertingMetrics
from obs_schema import host
from obs_schema.errors import BadRequest, PayloadTooLarge, Unprocessable


def _batch(body: Any) -> list[Any]:
    items = body.get("events") if isinstance(body, dict) and "events" in body else body
    items = items if isinstance(items, list) else [items]
    if len(items) > intake.MAX_BATCH:
        raise PayloadTooLarge(f"at most {intake.MAX_BATCH} events per request")
    return items


def router(metrics: AlertingMetrics) -> APIRouter:
    api = APIRouter(tags=["intake"])

    @api.post(
        "/alerts/events",
        status_code=202,
        response_model=IngestResult,
        summary="Raise or resolve alerts",
        description='One event, a list, or `{"events": [...]}`. Each event is validated on '
        "its own: good events are accepted even when others are rejected (422 only when none "
        "is good). Same fingerprint = same alert: repeats are deduplicated.",
    )
    async def post_events(
        request: Request,
        _: Ingester,
        body: Annotated[Any, Body(examples=[EVENT_EXAMPLE])],
    ) -> Any:
        items = _batch(body)
        accepted, rejected = intake.validate(items)
        if items and not accepted:
            metrics.counted("http", 0, len(rejected))
            raise Unprocessable("no event in the request is valid", details=rejected)
        return await ingestion.ingest(env_of(request), accepted, rejected, "http", metrics)

    @api.post(
        "/api/v2/alerts",
        summary="Alertmanager API v2: post alerts (what Prometheus sends)",
        description="A JSON array of `postableAlert`. Valid alerts are kept even when others "
        "are not; then the answer is 400 naming the bad ones, as Alertmanager answers.",
        responses={200: {"description": "all alerts accepted (empty body)"}},
    )
    async def post_am_alerts(
        request: Request,
        _: Ingester,
        body: Annotated[
            Any, Body(examples=[[{"labels": {"alertname": "HighErrorRate", "service": "api"}}]])
        ],
    ) -> Response:
        if not isinstance(body, list):
            raise BadRequest("the body must be a JSON array of alerts")
        items = _batch(body)
        accepted, rejected = amapi.to_events(items, host.now_ms())
        await ingestion.ingest(env_of(request), accepted, rejected, "alertmanager", metrics)
        if rejected:
            raise BadRequest(
                f"{len(rejected)} of {len(items)} alerts are invalid", details=rejected
            )
        return Response(status_code=200)

    @api.get("/api/v2/alerts", summary="Alertmanager API v2: list alerts (gettableAlerts)")
    async def get_am_alerts(
        request: Request,
        _: Reader,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
    ) -> JSONResponse:
        hub = Hub(env_of(request))
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = await hub.call(
                "list_alerts", filters={"status": "active"}, limit=500, cursor=cursor
            )
            found += page["alerts"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        out = []
        for alert in found:
            if (alert["silenced_by"] and not silenced) or (alert["inhibited_by"] and not inhibited):
                continue
            if alert["state"] == "active" and not active:
                continue
            out.append(amapi.gettable(alert, alert["receivers"]))
        return JSONResponse(out)

    @api.get("/api/v2/silences", summary="Alertmanager API v2: list silences")
    async def get_am_silences(request: Request, _: Reader) -> JSONResponse:
        result = await Hub(env_of(request)).call("list_silences")
        return JSONResponse(result["silences"])

    @api.post("/api/v2/silences", summary="Alertmanager API v2: create or update a silence")
    async def post_am_silence(
        request: Request,
        _: Admin,
        body: Annotated[dict[str, Any], Body(examples=[SILENCE_EXAMPLE])],
    ) -> JSONResponse:
        result = await Hub(env_of(request)).call("put_silence", body=body)
        return JSONResponse({"silenceID": result["silenceID"]})

    @api.get("/api/v2/silence/{silence_id}", summary="Alertmanager API v2: one silence")
    async def get_am_silence(request: Request, silence_id: str, _: Reader) -> JSONResponse:
        return JSONResponse(await Hub(env_of(request)).call("get_silence", silence_id=silence_id))

    @api.delete("/api/v2/silence/{silence_id}", summary="Alertmanager API v2: expire a silence")
    async def delete_am_silence(request: Request, silence_id: str, _: Admin) -> Response:
        await Hub(env_of(request)).call("expire_silence", silence_id=silence_id)
        return Response(status_code=200)

    return api
