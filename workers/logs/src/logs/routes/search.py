"""Read routes: `GET /logs/query`, `/logs/trace/{trace_id}`, `/logs/stats`, `/logs/tail`."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from logs import archivesearch, redaction, statistics
from logs.ingestion import store_for
from logs.schemas import QueryAnswer, StatsAnswer, TraceAnswer
from logs.search import request as searchreq
from logs.search.fts import to_fts
from logs.search.request import SearchError, SearchRequest, encode_cursor
from logs.search.syntax import map_terms
from logs.settings import Settings, settings_for
from logs.tail import TailOptions, stream
from obs_schema import auth, host
from obs_schema.errors import BadRequest

router = APIRouter(tags=["search"], dependencies=[Depends(auth.require("read"))])

# Declared for the OpenAPI document; parsed by `logs.search.request` (400s, not 422s).
Q = Query(None, description='Full text: words, "phrases", AND/OR/NOT, (groups), prefix*.')
LEVEL = Query(None, description="Minimum severity: `error` returns error, critical and fatal.")
SERVICE = Query(None, description="Service name; repeat or comma-separate for several.")
TRACE = Query(None, description="32 hex digits.")
SINCE = Query(None, description="RFC 3339, epoch ms, or a duration before now (15m, 24h, 7d).")
UNTIL = Query(None, description="Same forms as since; default now.")
LIMIT = Query(None, description="1-1000, default 50.")
CURSOR = Query(None, description="`next_cursor` of the previous page.")
ARCHIVE = Query(None, description="true: also search the R2 archive of the window.")
TAIL_PARAMS = frozenset({"backlog", "max_events", "duration"})
SEARCH_DOC = (
    " Also `attr.<key>=<value>` (nested keys with dots, repeat a key for OR). Newest first."
)


@router.get(
    "/logs/query",
    response_model=QueryAnswer,
    summary="Search logs",
    description="Filters combine with AND." + SEARCH_DOC,
)
async def get_query(
    request: Request,
    q: str | None = Q,
    level: str | None = LEVEL,
    service: str | None = SERVICE,
    trace_id: str | None = TRACE,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    limit: str | None = LIMIT,
    cursor: str | None = CURSOR,
    archive: str | None = ARCHIVE,
) -> Response:
    env = request.scope["env"]
    settings = settings_for(env)
    search = await _request(request, settings)
    store = store_for(env, settings)
    match = to_fts(search.tree) if search.tree is not None else None
    request.app.state.telemetry.searched("archive" if search.archive else "query")
    if not search.archive:
        found = await store.page(search, match)
        cursor = encode_cursor(found.last_id) if found.more and found.last_id else None
        return _spliced({}, "logs", found.documents, {"next_cursor": cursor})
    page, more = await store.search(search, match)
    archived, more_archived = await _guard(archivesearch.search(env.ARCHIVE, search))
    merged = {record["id"]: record for record in archived + page}
    ordered = sorted(merged.values(), key=lambda record: record["id"], reverse=True)
    more = more or more_archived or len(ordered) > search.limit
    page = ordered[: search.limit]
    next_cursor = encode_cursor(page[-1]["id"]) if more and page else None
    return JSONResponse({"logs": page, "next_cursor": next_cursor})


@router.get(
    "/logs/trace/{trace_id}",
    response_model=TraceAnswer,
    summary="Every log of a trace, oldest first",
)
async def get_trace(
    request: Request, trace_id: str, since: str | None = SINCE, until: str | None = UNTIL
) -> Response:
    env = request.scope["env"]
    settings = settings_for(env)
    params = [("trace_id", trace_id)] + [
        (k, v) for k, v in request.query_params.multi_items() if k in ("since", "until")
    ]
    search = _build(params, settings)
    assert search.trace_id is not None
    request.app.state.telemetry.searched("trace")
    logs = await store_for(env, settings).trace(
        search.trace_id, search.start_ms, search.end_ms, statistics.MAX_TRACE_LOGS
    )
    return _spliced({"trace_id": search.trace_id}, "logs", logs, {})


@router.get(
    "/logs/stats",
    response_model=StatsAnswer,
    summary="Counts by level and service over time buckets (for the dashboard)",
)
async def get_stats(
    request: Request,
    since: str | None = Query(None, description="Default 24h."),
    until: str | None = UNTIL,
    step: str | None = Query(None, description="Bucket width (1m ... 1d); default: ~60 buckets."),
    service: str | None = SERVICE,
) -> JSONResponse:
    env = request.scope["env"]
    settings = settings_for(env)
    try:
        window = statistics.Window.parse(since, until, step, host.now_ms())
    except ValueError as error:
        raise BadRequest(str(error)) from None
    services = [s.strip() for s in (service or "").split(",") if s.strip()]
    request.app.state.telemetry.searched("stats")
    rows = await store_for(env, settings).stats(window.start_ms, window.end_ms)
    return JSONResponse(statistics.aggregate(rows, window, services))


@router.get(
    "/logs/tail",
    summary="Live tail (Server-Sent Events), same filters as /logs/query",
    response_class=StreamingResponse,
)
async def get_tail(
    request: Request,
    q: str | None = Q,
    level: str | None = LEVEL,
    service: str | None = SERVICE,
    backlog: int = Query(0, ge=0, le=1000, description="Send the newest N matches first."),
    max_events: int = Query(10_000, ge=1, le=100_000, description="End after this many."),
    duration: float = Query(300, gt=0, le=3600, description="End after this many seconds."),
) -> StreamingResponse:
    env = request.scope["env"]
    settings = settings_for(env)
    search = await _request(request, settings, TAIL_PARAMS)
    match = to_fts(search.tree) if search.tree is not None else None
    request.app.state.telemetry.searched("tail")
    options = TailOptions(max_events, duration, backlog, request.headers.get("last-event-id"))
    return StreamingResponse(
        stream(store_for(env, settings), match, search, options),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _spliced(
    head: dict[str, Any], name: str, documents: list[str], tail: dict[str, Any]
) -> Response:
    """A JSON object answer `{**head, name: [documents...], **tail}` whose list is spliced
    from JSON texts the shards wrote (each one a complete JSON object)."""
    parts = [json.dumps(head, ensure_ascii=False)[:-1]]
    parts.append(f'{"," if head else ""}"{name}":[')
    parts.append(",".join(documents))
    parts.append("]" + ("," if tail else "") + json.dumps(tail, ensure_ascii=False)[1:])
    return Response("".join(parts), media_type="application/json")


async def _request(
    request: Request, settings: Settings, also: frozenset[str] = frozenset()
) -> SearchRequest:
    search = _build(list(request.query_params.multi_items()), settings, also)
    if search.tree is not None:
        scrubber = await redaction.scrubber_for(request.scope["env"])
        search.tree = map_terms(search.tree, scrubber.scrub_text)
    return search


def _build(
    params: list[tuple[str, str]], settings: Settings, also: frozenset[str] = frozenset()
) -> SearchRequest:
    try:
        return searchreq.build(params, host.now_ms(), settings.hot_retention_ms, also)
    except SearchError as error:
        raise BadRequest(str(error), details=[{"loc": ["query", error.parameter]}]) from None


async def _guard(work: Any) -> Any:
    try:
        return await work
    except SearchError as error:
        raise BadRequest(str(error), details=[{"loc": ["query", error.parameter]}]) from None
