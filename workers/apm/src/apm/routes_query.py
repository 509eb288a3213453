"""Read routes: summary, timeseries, service map, dependencies, databases, traces."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from apm import archive, query, tree
from apm.rows import ALL_ROUTES
from apm.sharding import control_stub
from apm.statstore import Total
from apm.summary import METRICS, describe, value_of
from apm.window import Window, step_minutes, window
from obs_schema import auth, host
from obs_schema.errors import BadRequest, NotFound
from obs_schema.timespec import TimeSpecError, format_rfc3339, parse_duration, parse_window

router = APIRouter(prefix="/apm", tags=["query"], dependencies=[Depends(auth.require("read"))])
NS_PER_MS = 1_000_000
_TRACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")
SINCE = Query(None, description="Start: RFC 3339, epoch ms, or a duration before now (`24h`).")
UNTIL = Query(None, description="End (default now), same forms as `since`.")


def _window(since: str | None, until: str | None, default: str = "1h") -> Window:
    try:
        start, end = parse_window(since, until, host.now(), parse_duration(default))
    except TimeSpecError as error:
        raise BadRequest(str(error)) from None
    return window(start * 1000, end * 1000)


def _frame(win: Window) -> dict[str, Any]:
    return {
        "since": format_rfc3339(win.start * 60),
        "until": format_rfc3339(win.end * 60),
        "resolution": "1h" if win.hourly else "1m",
        "minutes": win.minutes,
    }


async def _config(request: Request) -> dict[str, Any]:
    return dict(await control_stub(request.scope["env"]).config())


@router.get(
    "/summary",
    summary="Per service and route: rate, errors, p50/p95/p99, Apdex",
    response_class=JSONResponse,
)
async def summary(
    request: Request,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    service: str | None = Query(None, description="Only this service."),
    apdex_t_ms: float | None = Query(None, gt=0, description="Apdex T (default: config)."),
) -> Response:
    win = _window(since, until)
    threshold = apdex_t_ms or float((await _config(request))["apdex_t_ms"])
    routes, services = await query.summary(request.scope["env"], win, service, threshold)
    routes.sort(key=lambda row: (-row[0], row[1], row[2]))
    services.sort(key=lambda row: str(row[0]))
    # The stats shards encoded each row: the body is joined, not encoded again (1,000s of rows).
    head = json.dumps({**_frame(win), "apdex_t_ms": threshold}, separators=(",", ":"))
    body = "".join(
        (
            head[:-1],
            ',"services":[',
            ",".join(row[1] for row in services),
            '],"routes":[',
            ",".join(row[3] for row in routes),
            "]}",
        )
    )
    return Response(body, media_type="application/json")


@router.get("/timeseries", summary="One metric of a service (and route) per time step")
async def timeseries(
    request: Request,
    service: str = Query(..., description="Service name."),
    route: str | None = Query(None, description="One route; default all routes merged."),
    metric: str = Query("p95", description=f"One of {', '.join(METRICS)}."),
    step: str = Query("1m", description="Bucket size (`1m`, `5m`, `1h`); widened if needed."),
    since: str | None = SINCE,
    until: str | None = UNTIL,
) -> dict[str, Any]:
    if metric not in METRICS:
        raise BadRequest(f"metric must be one of {', '.join(METRICS)}")
    win = _window(since, until)
    try:
        step_s = parse_duration(step)
    except TimeSpecError as error:
        raise BadRequest(str(error)) from None
    minutes = step_minutes(step_s, win.minutes)
    if win.hourly:
        minutes = max(60, minutes - minutes % 60)
    threshold = float((await _config(request))["apdex_t_ms"])
    key = route or ALL_ROUTES  # the service's pre-aggregated key
    buckets = await query.series(request.scope["env"], "route", service, key, win, minutes)
    points = [
        {"t": format_rfc3339(m * 60), "value": value_of(metric, total, minutes, threshold)}
        for m, total in buckets
    ]
    frame = {**_frame(win), "step_minutes": minutes}
    return {**frame, "service": service, "route": route, "metric": metric, "points": points}


@router.get("/services", summary="Service map: call edges with counts, errors, latency")
async def services(
    request: Request, since: str | None = SINCE, until: str | None = UNTIL
) -> JSONResponse:
    win = _window(since, until)
    env = request.scope["env"]
    edges, _ = await query.described(env, "edge", win)
    _, services = await query.described(env, "route", win)
    nodes = {a: numbers for a, numbers in services}
    for caller, callee, _ in edges:
        for name in (caller, callee):
            nodes.setdefault(name, describe(Total(), win.minutes))
    return JSONResponse(
        {
            **_frame(win),
            "nodes": [{"service": name, **numbers} for name, numbers in sorted(nodes.items())],
            "edges": sorted(
                ({"source": a, "target": b, **_calls(numbers)} for a, b, numbers in edges),
                key=lambda e: (-e["calls"], e["source"], e["target"]),
            ),
        }
    )


def _calls(numbers: dict[str, Any]) -> dict[str, Any]:
    numbers["calls"] = numbers.pop("requests")
    numbers["calls_per_min"] = numbers.pop("throughput_per_min")
    return numbers


@router.get("/dependencies", summary="Outgoing HTTP calls per remote host")
async def dependencies(
    request: Request, since: str | None = SINCE, until: str | None = UNTIL
) -> dict[str, Any]:
    win = _window(since, until)
    env = request.scope["env"]
    hosts, _ = await query.described(env, "http", win)
    examples = await query.all_examples(env, "http", win, 100)
    rows = [
        {"host": a, **_calls(numbers), "slowest": _slowest(examples, a, b)}
        for a, b, numbers in hosts
    ]
    rows.sort(key=lambda r: (-r["calls"], r["host"]))
    return {**_frame(win), "hosts": rows}


@router.get("/db", summary="Database statements by fingerprint, and N+1 patterns")
async def databases(
    request: Request,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    system: str | None = Query(None, description="Only this `db.system`, e.g. `postgresql`."),
    n_plus_one_min: int | None = Query(None, ge=2, description="Repeats (default: config)."),
) -> dict[str, Any]:
    win = _window(since, until)
    env = request.scope["env"]
    minimum = n_plus_one_min or int((await _config(request))["n_plus_one_min"])
    statements, _ = await query.described(env, "db", win, system)
    examples = await query.all_examples(env, "db", win, 200)
    rows = [
        {"db_system": a, "fingerprint": b, **_calls(numbers), "slowest": _slowest(examples, a, b)}
        for a, b, numbers in statements
    ]
    rows.sort(key=lambda r: (-r["total_ms"], r["fingerprint"]))
    repeats = await query.repeats(env, win.start * 60 * 10**9, win.end * 60 * 10**9, minimum, 100)
    return {
        **_frame(win),
        "n_plus_one_min": minimum,
        "statements": rows,
        "n_plus_one": [
            {
                "trace_id": r["trace_id"],
                "service": r["service"],
                "db_system": r["db_system"],
                "fingerprint": r["fingerprint"],
                "count": r["count"],
                "total_ms": r["total_ns"] / NS_PER_MS,
                "at": format_rfc3339(r["start_ns"] / 1e9),
            }
            for r in repeats
            if system is None or r["db_system"] == system
        ],
    }


def _slowest(examples: list[dict[str, Any]], a: str, b: str, limit: int = 5) -> list[Any]:
    found = sorted(
        (e for e in examples if e["a"] == a and e["b"] == b),
        key=lambda e: e["duration_ns"],
        reverse=True,
    )
    return [
        {
            "trace_id": e["trace_id"],
            "span_id": e["span_id"],
            "duration_ms": e["duration_ns"] / NS_PER_MS,
            "error": bool(e["error"]),
            "at": format_rfc3339(e["start_ns"] / 1e9),
        }
        for e in found[:limit]
    ]


@router.get("/traces", summary="Search traces, newest first")
async def search_traces(
    request: Request,
    service: str | None = Query(None),
    route: str | None = Query(None),
    status: str | None = Query(None, description="`error`: only traces with an error span."),
    min_duration_ms: float | None = Query(None, ge=0),
    since: str | None = SINCE,
    until: str | None = UNTIL,
    limit: int = Query(20, ge=1, le=100),
    cursor: str | None = Query(None, description="`next_cursor` of the previous page."),
) -> dict[str, Any]:
    """Span conditions (`service`, `route`, `status`, `min_duration_ms` and any
    `attr.<key>=<value>`) must hold for one span of the trace; the time window applies to the
    trace start."""
    if status not in (None, "error"):
        raise BadRequest("status accepts only `error`")
    try:
        start, end = parse_window(since, until, host.now(), parse_duration("1h"))
    except TimeSpecError as error:
        raise BadRequest(str(error)) from None
    query_spec = {
        "since_ns": int(start * 1e9),
        "until_ns": int(end * 1e9),
        "service": service,
        "route": route,
        "error": status == "error",
        "min_duration_ns": int(min_duration_ms * NS_PER_MS) if min_duration_ms else 0,
        "attributes": _attributes(request),
        "limit": limit,
        "after": _decode_cursor(cursor) if cursor else None,
    }
    found = await query.search(request.scope["env"], query_spec)
    last = found[-1] if len(found) == limit else None
    return {
        "traces": [_listed(row) for row in found],
        "next_cursor": _encode_cursor(last["start_ns"], last["trace_id"]) if last else None,
    }


MAX_ATTRIBUTE_FILTERS = 8  # attr.<key>=<value> parameters per search


def _attributes(request: Request) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    filters = [(k, v) for k, v in request.query_params.multi_items() if k.startswith("attr.")]
    if len(filters) > MAX_ATTRIBUTE_FILTERS:
        raise BadRequest(f"at most {MAX_ATTRIBUTE_FILTERS} attr.<key>=<value> filters")
    for key, value in filters:
        name = key[5:]
        if not name or '"' in name or len(name) > 256:
            raise BadRequest(f"invalid attribute name in {key[:64]!r}")
        found.setdefault(name, []).extend(_typed(value))
    return found


def _typed(value: str) -> list[Any]:
    """A query value and its typed reading (`200` also matches the integer 200)."""
    forms: list[Any] = [value]
    if value in ("true", "false"):
        forms.append(1 if value == "true" else 0)
    elif re.fullmatch(r"-?[0-9]{1,18}", value):
        forms.append(int(value))
    elif re.fullmatch(r"-?[0-9]+\.[0-9]+", value):
        forms.append(float(value))
    return forms


def _encode_cursor(start_ns: int, trace_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([start_ns, trace_id]).encode()).decode()


def _decode_cursor(cursor: str) -> list[Any]:
    try:
        start, trace_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(start, int) or not isinstance(trace_id, str):
            raise ValueError
    except (ValueError, TypeError, binascii.Error):
        raise BadRequest("invalid cursor") from None
    return [start, trace_id]


def _listed(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "trace_id": row["trace_id"],
        "start": format_rfc3339(row["start_ns"] / 1e9),
        "duration_ms": (row["end_ns"] - row["start_ns"]) / NS_PER_MS,
        "span_count": row["span_count"],
        "error_count": row["error_count"],
        "services": [s for s in str(row["services"]).split(",") if s],
        "root": None
        if row["root_service"] is None
        else {"service": row["root_service"], "name": row["root_name"], "route": row["root_route"]},
    }


@router.get("/traces/{trace_id}", summary="One trace as a tree")
async def get_trace(request: Request, trace_id: str) -> dict[str, Any]:
    if not _TRACE_ID.fullmatch(trace_id):
        raise BadRequest("trace id must be 32 hex digits")
    trace_id = trace_id.lower()
    env = request.scope["env"]
    found = await query.trace(env, trace_id)
    if found is None:
        raise NotFound(f"trace {trace_id} not found")
    spans, summary = list(found["spans"]), found["summary"]
    archived = bool(summary and summary.get("archive"))
    if not spans and archived:
        spans = await archive.read(env.ARCHIVE, summary["archive"], trace_id)
    if not spans:
        raise NotFound(f"trace {trace_id} has no stored spans (dropped by sampling)")
    return {**tree.build(spans, summary), "archived": archived}
