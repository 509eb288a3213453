"""Incidents: list, read, timeline (with logs and traces links), notes, Markdown report."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from alerting import ingestion, report
from alerting.api.bodies import Note
from alerting.api.common import Admin, Reader, actor, env_of
from alerting.client import Hub
from obs_schema import host
from obs_schema.errors import BadRequest


def _cursor(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isascii() or not value.isdigit():
        raise BadRequest("invalid cursor")
    return int(value)


def _base(request: Request) -> str:
    return str(getattr(env_of(request), "OBS_PUBLIC_URL", "") or "").rstrip("/")


def router() -> APIRouter:
    api = APIRouter(prefix="/alerts/incidents", tags=["incidents"])

    @api.get("", summary="Incidents, newest first")
    async def list_incidents(
        request: Request,
        _: Reader,
        status: Literal["open", "acknowledged", "resolved"] | None = None,
        limit: int = Query(default=50, ge=1, le=500),
        cursor: str | None = Query(default=None, max_length=32),
    ) -> dict[str, Any]:
        result: dict[str, Any] = await Hub(env_of(request)).call(
            "list_incidents", status=status, limit=limit, before=_cursor(cursor)
        )
        return result

    @api.get("/{incident_id}", summary="One incident with its alerts and timeline")
    async def get_incident(request: Request, incident_id: int, _: Reader) -> dict[str, Any]:
        result: dict[str, Any] = await Hub(env_of(request)).call(
            "get_incident", incident_id=incident_id
        )
        return result

    @api.get(
        "/{incident_id}/timeline",
        summary="Fired, notified, escalated, acknowledged, resolved, notes",
    )
    async def timeline(request: Request, incident_id: int, _: Reader) -> dict[str, Any]:
        incident = await Hub(env_of(request)).call("get_incident", incident_id=incident_id)
        return {
            "incident": incident_id,
            "title": incident["title"],
            "status": incident["status"],
            "events": incident["timeline"],
            "links": report.links(incident, _base(request), host.now_ms()),
        }

    @api.post("/{incident_id}/notes", status_code=201, summary="Add a note to the timeline")
    async def add_note(
        request: Request,
        principal: Admin,
        incident_id: int,
        body: Note,
    ) -> dict[str, Any]:
        result: dict[str, Any] = await Hub(env_of(request)).call(
            "add_note", incident_id=incident_id, by=actor(body.by, principal), text=body.text
        )
        return result

    @api.get(
        "/{incident_id}/report",
        response_class=PlainTextResponse,
        summary="Markdown post-incident draft (impact from the logs and APM Workers)",
    )
    async def get_report(request: Request, incident_id: int, _: Reader) -> PlainTextResponse:
        env = env_of(request)
        hub = Hub(env)
        incident = await hub.call("get_incident", incident_id=incident_id)
        now = await ingestion.capture_impact(env, [incident_id], "at_report")
        incident["impact"] = {**incident.get("impact", {}), "at_report": now[str(incident_id)]}
        text = report.markdown(incident, _base(request), host.now_ms())
        return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")

    return api
