"""Reading the store: `GET /infra/timeseries` for charts and `GET /infra/series` to browse."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from infra import store
from obs_schema import auth, host, timespec
from obs_schema.errors import BadRequest, Unprocessable

router = APIRouter(prefix="/infra", tags=["query"], dependencies=[Depends(auth.require("read"))])
TARGET_POINTS = 300


class SeriesPoints(BaseModel):
    labels: dict[str, str]
    points: list[tuple[str, float | None]] = Field(description="`[RFC 3339 time, value]` pairs.")


class TimeseriesReply(BaseModel):
    metric: str
    kind: str = Field(description="`counter`, `gauge` or `histogram`.")
    unit: str
    fn: str = Field(description="What each point is (see the `fn` parameter).")
    resolution: str = Field(description="`minute` (last 7 days) or `hour` (rollups, 90 days).")
    step_s: int
    since: str
    until: str
    series: list[SeriesPoints]
    truncated: bool


class MetricInfo(BaseModel):
    metric: str
    kind: str
    unit: str
    labels: list[str]
    series: int
    last_seen: str


@router.get(
    "/timeseries",
    summary="One metric over time, for charts",
    description="Counters: `sum` (increase per step, default), `rate`, `max`, `min`, `avg`. "
    "Gauges: `avg` (default), `max`, `min`, `last`, `sum`. Histograms: `p50`, `p90`, `p95` "
    "(default), `p99`, `p999`, `mean`, `count`, `rate`. `labels` filters with `k=v`, `k!=v` and "
    "`k=a|b` (any of), comma-separated; `by` sums series per those labels.",
    response_model=TimeseriesReply,
    response_class=JSONResponse,
)
async def get_timeseries(
    request: Request,
    metric: str = Query(min_length=1, max_length=255),
    labels: str = "",
    since: str | None = Query(None, description="Start: RFC 3339, epoch ms or `24h` (default 1h)."),
    until: str | None = None,
    step: str | None = Query(None, description="`60s`, `5m`, `1h` (default: ~300 points)."),
    fn: str | None = None,
    by: str | None = Query(None, description="Comma-separated label names to group by."),
) -> JSONResponse:
    now = host.now()
    try:
        start, end = timespec.parse_window(since, until, now)
        step_s = timespec.parse_duration(step) if step else _auto_step(end - start)
    except timespec.TimeSpecError as error:
        raise BadRequest(str(error)) from None
    if step_s < 60:
        raise BadRequest("step must be at least 60s (the store keeps one sample per minute)")
    spec: dict[str, Any] = {
        "metric": metric,
        "matchers": parse_matchers(labels),
        "start_ms": int(start * 1000),
        "end_ms": int(end * 1000),
        "step_s": int(step_s),
        "fn": fn,
        "by": [b.strip() for b in by.split(",") if b.strip()] if by is not None else None,
    }
    result = await store.query(request.scope["env"], spec, int(now * 1000))
    if "error" in result:
        raise Unprocessable(str(result["error"]))
    return _reply(result, start, end)


@router.get(
    "/series",
    summary="The metrics stored, with their labels and series counts",
    response_model=list[MetricInfo],
)
async def get_series(
    request: Request, prefix: str = "", limit: int = Query(1000, ge=1, le=10_000)
) -> list[MetricInfo]:
    found = await store.each(request.scope["env"], "series", prefix, limit)
    items = sorted((item for part in found for item in part), key=lambda i: i["metric"])
    return [
        MetricInfo(
            metric=i["metric"],
            kind=i["kind"],
            unit=i["unit"],
            labels=i["labels"],
            series=i["series"],
            last_seen=timespec.format_rfc3339(i["last_seen_ms"] / 1000),
        )
        for i in items[:limit]
    ]


def parse_matchers(text: str) -> list[list[str]]:
    """`worker=logs,class!=kv,op=get|put` into `[label, op, value]` triples."""
    matchers = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, op, value = _split(part)
        if not name or len(name) > 128 or len(value) > 1024:
            raise BadRequest(f"bad label matcher {part[:60]!r}: use k=v, k!=v or k=a|b")
        matchers.append([name, op, value])
    return matchers


def _split(part: str) -> tuple[str, str, str]:
    if "!=" in part:
        name, _, value = part.partition("!=")
        return name.strip(), "!=", value.strip()
    name, sep, value = part.partition("=")
    if not sep:
        raise BadRequest(f"bad label matcher {part[:60]!r}: use k=v, k!=v or k=a|b")
    return name.strip(), "=", value.strip()


def _auto_step(span: float) -> float:
    return max(60.0, math.ceil(span / TARGET_POINTS / 60) * 60)


def _reply(result: dict[str, Any], start: float, end: float) -> JSONResponse:
    """The `TimeseriesReply` document, built directly: a 7-day chart has thousands of points,
    and validating each through the model would cost more than the query itself."""
    step_ms = int(result["step_s"]) * 1000
    first = int(result["first_ms"])
    count = max((len(s["values"]) for s in result["series"]), default=0)
    times = [timespec.format_rfc3339((first + i * step_ms) / 1000) for i in range(count)]
    body = {
        "metric": result["metric"],
        "kind": result["kind"],
        "unit": result["unit"],
        "fn": result["fn"],
        "resolution": result["resolution"],
        "step_s": int(result["step_s"]),
        "since": timespec.format_rfc3339(start),
        "until": timespec.format_rfc3339(end),
        "series": [
            {
                "labels": s["labels"],
                "points": [list(p) for p in zip(times, s["values"], strict=False)],
            }
            for s in result["series"]
        ],
        "truncated": bool(result["truncated"]),
    }
    return JSONResponse(body)
