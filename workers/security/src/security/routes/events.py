"""`GET /security/events` and `/security/incidents`: what was detected, and by whom."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request

from obs_schema import host
from obs_schema.errors import BadRequest, NotFound
from obs_schema.models.security import _canonical_ip
from obs_schema.timespec import TimeSpecError, parse_window
from security import paging, shards
from security.routes.access import Admin, Read
from security.schemas import EventPage, IncidentDetail, IncidentOut, IncidentPage

router = APIRouter(prefix="/security", tags=["events"])


def _window(since: str | None, until: str | None, default_s: float) -> tuple[int, int]:
    try:
        start, end = parse_window(since, until, host.now(), default_span=default_s)
    except TimeSpecError as error:
        raise BadRequest(str(error)) from None
    return int(start * 1000), int(end * 1000)


def _ip(ip: str | None) -> str | None:
    if ip is None:
        return None
    try:
        return _canonical_ip(ip)
    except ValueError:
        raise BadRequest("ip must be an IPv4 or IPv6 address") from None


def event_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **{
            k: row[k]
            for k in (
                "id",
                "type",
                "ip",
                "user_id",
                "route",
                "score",
                "action",
                "evidence",
                "incident",
            )
        },
        "time": paging.rfc3339_ms(row["time_ms"]),
    }


def incident_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **{
            k: row[k]
            for k in (
                "id",
                "ip",
                "status",
                "score",
                "types",
                "events",
                "alerted",
                "blocked",
                "users",
            )
        },
        "opened_at": paging.rfc3339_ms(row["opened_ms"]),
        "updated_at": paging.rfc3339_ms(row["updated_ms"]),
    }


@router.get(
    "/events",
    response_model=EventPage,
    summary="Security events, newest first",
    description="Filters: `type`, `ip`, `user_id`, `since`/`until` (RFC 3339, epoch ms "
    "or relative like `15m`; default the last 24 h). Paginate with `cursor`. Scope `read`.",
)
async def get_events(
    request: Request,
    _: Read,
    type: str | None = Query(default=None, max_length=64),
    ip: str | None = Query(default=None, max_length=64),
    user_id: str | None = Query(default=None, max_length=256),
    since: str | None = None,
    until: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    cursor: str | None = None,
) -> dict[str, Any]:
    env = request.scope["env"]
    start, end = _window(since, until, 86_400)
    query = {
        "type": type,
        "ip": _ip(ip),
        "user_id": user_id,
        "since_ms": start,
        "until_ms": end + 1,
        "before": paging.decode(cursor),
        "limit": limit,
    }
    if query["ip"] is not None:
        pages = [await shards.for_key(env, f"ip={query['ip']}")[1].query_events(query)]
    else:
        pages = await shards.all_shards(env, "query_events", query)
    rows, next_cursor = paging.merge(pages, "time_ms", limit)
    return {"events": [event_out(r) for r in rows], "cursor": next_cursor}


@router.get(
    "/incidents",
    response_model=IncidentPage,
    summary="Correlated incidents, most recently active first",
    description="Events of one source across types and time, scored. Filters: `status` "
    "(open, closed, resolved), `ip`, `min_score`, `since` (default 7 days). Scope `read`.",
)
async def get_incidents(
    request: Request,
    _: Read,
    status: Literal["open", "closed", "resolved"] | None = None,
    ip: str | None = Query(default=None, max_length=64),
    min_score: float = Query(default=0, ge=0),
    since: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    cursor: str | None = None,
) -> dict[str, Any]:
    env = request.scope["env"]
    start, _end = _window(since, None, 7 * 86_400)
    query = {
        "status": status,
        "ip": _ip(ip),
        "min_score": min_score,
        "since_ms": start,
        "limit": limit,
        "before": paging.decode(cursor),
    }
    if query["ip"] is not None:
        pages = [await shards.for_key(env, f"ip={query['ip']}")[1].query_incidents(query)]
    else:
        pages = await shards.all_shards(env, "query_incidents", query)
    rows, next_cursor = paging.merge(pages, "updated_ms", limit)
    return {"incidents": [incident_out(r) for r in rows], "cursor": next_cursor}


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentDetail,
    summary="One incident with its events",
)
async def get_incident(request: Request, incident_id: str, _: Read) -> dict[str, Any]:
    env = request.scope["env"]
    found = [i for i in await shards.all_shards(env, "get_incident", incident_id[:64]) if i]
    if not found:
        raise NotFound(f"no incident {incident_id[:64]!r}")
    incident = found[0]
    shard = shards.for_key(env, f"ip={incident['ip']}")[1]
    events = await shard.query_events(
        {"ip": incident["ip"], "since_ms": incident["opened_ms"], "limit": 200}
    )
    mine = [event_out(e) for e in events if e["incident"] == incident["id"]]
    return {**incident_out(incident), "event_list": mine}


@router.post(
    "/incidents/{incident_id}/resolve",
    response_model=IncidentOut,
    summary="Mark an incident resolved (admin)",
)
async def resolve_incident(request: Request, incident_id: str, _: Admin) -> dict[str, Any]:
    env = request.scope["env"]
    results = await shards.all_shards(
        env, "set_incident_status", incident_id[:64], "resolved", host.now_ms()
    )
    found = [r for r in results if r]
    if not found:
        raise NotFound(f"no incident {incident_id[:64]!r}")
    return incident_out(found[0])
