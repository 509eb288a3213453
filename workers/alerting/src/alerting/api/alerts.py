"""Alerts: list, read, acknowledge, resolve, the notification log, one-click links, groups."""

from __future__ import annotations

import html
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.convertors import Convertor, register_url_convertor

from alerting.api.bodies import Action, AlertPage
from alerting.api.common import Admin, Reader, actor, env_of
from alerting.client import Hub
from alerting.telemetry import AlertingMetrics
from obs_schema.auth import Principal


class FingerprintConvertor(Convertor[str]):
    """`/alerts/<16 hex digits>`: Alertmanager fingerprints only, so that any other
    `/alerts/<word>` stays a 404 rather than an alert lookup. Alerts raised with a fingerprint
    of their own are found with `GET /alerts?fingerprint=`."""

    regex = "[0-9a-f]{16}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("fingerprint", FingerprintConvertor())

Status = Literal["firing", "acknowledged", "resolved", "active"]
Severity = Literal["critical", "error", "warning", "info"]


def links_router() -> APIRouter:
    """Signed one-click links: no token, the signature is the authority (and it expires)."""
    api = APIRouter(prefix="/alerts", tags=["alerts"])

    @api.get(
        "/links/{token}",
        response_class=HTMLResponse,
        summary="Follow a signed acknowledge/resolve link (from Slack, email, SMS)",
    )
    async def follow_link(request: Request, token: str) -> HTMLResponse:
        result = await Hub(env_of(request)).call("follow_link", token=token)
        return HTMLResponse(_page(result))

    @api.post("/links/{token}", summary="Follow a signed link (JSON answer)")
    async def follow_link_json(request: Request, token: str) -> dict[str, Any]:
        result: dict[str, Any] = await Hub(env_of(request)).call("follow_link", token=token)
        return result

    return api


def _page(result: dict[str, Any]) -> str:
    alert = result["alert"]
    verb = {"ack": "acknowledged", "resolve": "resolved"}[result["action"]]
    done = (
        f"{alert['name']} is now {verb}."
        if result["done"]
        else f"{alert['name']} was already resolved."
    )
    summary = (alert.get("annotations") or {}).get("summary", "")
    return (
        "<!doctype html><meta charset=utf-8><title>Pitchey alerting</title>"
        f"<h1>{html.escape(done)}</h1><p>{html.escape(str(summary))}</p>"
    )


def router(metrics: AlertingMetrics) -> APIRouter:
    api = APIRouter(prefix="/alerts", tags=["alerts"])

    @api.get("", response_model=AlertPage, summary="List alerts, newest first")
    async def list_alerts(
        request: Request,
        _: Reader,
        status: Status | None = None,
        severity: Severity | None = None,
        service: str | None = Query(default=None, max_length=256),
        name: str | None = Query(default=None, max_length=256),
        source: str | None = Query(default=None, max_length=256),
        fingerprint: str | None = Query(default=None, max_length=128),
        limit: int = Query(default=100, ge=1, le=1000),
        cursor: str | None = Query(default=None, max_length=512),
    ) -> Any:
        filters = {
            "fingerprint": fingerprint,
            "status": status,
            "severity": severity,
            "service": service,
            "name": name,
            "source": source,
        }
        hub = Hub(env_of(request))
        page = await hub.call("list_alerts", filters=filters, limit=limit, cursor=cursor)
        metrics.observe(await hub.call("stats"))
        return page

    @api.get("/groups", summary="Aggregation groups and their alerts (Alertmanager's view)")
    async def groups(request: Request, _: Reader) -> dict[str, Any]:
        result: dict[str, Any] = await Hub(env_of(request)).call("groups")
        return result

    return api


def item_router() -> APIRouter:
    """`/alerts/{id}` routes: registered last, so fixed paths like /alerts/silences win."""
    api = APIRouter(prefix="/alerts", tags=["alerts"])

    @api.get(
        "/{fingerprint:fingerprint}", summary="One alert, with its state, receivers and escalation"
    )
    async def get_alert(request: Request, fingerprint: str, _: Reader) -> dict[str, Any]:
        result: dict[str, Any] = await Hub(env_of(request)).call(
            "get_alert", fingerprint=fingerprint
        )
        return result

    @api.post("/{fingerprint}/ack", summary="Acknowledge: stops escalation, tells PagerDuty")
    async def acknowledge(
        request: Request,
        principal: Admin,
        fingerprint: str,
        body: Action | None = None,
    ) -> dict[str, Any]:
        return await _act("acknowledge", request, principal, fingerprint, body)

    @api.post("/{fingerprint}/resolve", summary="Resolve by hand")
    async def resolve(
        request: Request,
        principal: Admin,
        fingerprint: str,
        body: Action | None = None,
    ) -> dict[str, Any]:
        return await _act("resolve", request, principal, fingerprint, body)

    @api.get("/{fingerprint}/notifications", summary="Every notification and delivery attempt")
    async def notifications(request: Request, fingerprint: str, _: Reader) -> dict[str, Any]:
        result: dict[str, Any] = await Hub(env_of(request)).call(
            "notifications", fingerprint=fingerprint
        )
        return result

    return api


async def _act(
    op: str, request: Request, principal: Principal, fingerprint: str, body: Action | None
) -> dict[str, Any]:
    """An operator's action on one alert, recorded with who did it and why."""
    action = body or Action()
    result: dict[str, Any] = await Hub(env_of(request)).call(
        op, fingerprint=fingerprint, by=actor(action.by, principal), note=action.note
    )
    return result
