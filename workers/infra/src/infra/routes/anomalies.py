"""`GET /infra/anomalies`: what is unusual, how far from normal, and why we think so."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from infra import store
from obs_schema import auth, host, timespec
from obs_schema.errors import BadRequest

router = APIRouter(prefix="/infra", tags=["anomalies"])


class Band(BaseModel):
    lower: float
    upper: float


class Anomaly(BaseModel):
    id: str = Field(description="`<shard>:<n>`, stable for the anomaly's life.")
    metric: str
    signal: str = Field(description="What was judged: `sum`, `avg`, `mean` or `count`.")
    labels: dict[str, str]
    kind: str = Field(description="spike, dip, level shift, drift or seasonal break.")
    state: Literal["active", "resolved"]
    started: str
    last_seen: str
    ended: str | None
    value: float = Field(description="The latest anomalous value (per 5-minute step).")
    expected: float
    band: Band = Field(description="Values inside this band are normal for this time.")
    score: float = Field(description="Robust z-score of the latest anomalous value.")
    peak_score: float
    baseline_days: int = Field(description="Days of history the baseline rests on (0: hours).")
    unit: str
    explanation: str


class AnomalyList(BaseModel):
    anomalies: list[Anomaly]
    active: int


@router.get(
    "/anomalies",
    summary="Anomalies on every series, active first",
    description="Detected every 5 minutes against a seasonal, outlier-robust baseline. "
    "`state` filters (`active`, `resolved`); `since` bounds `last_seen` (default 24h).",
    response_model=AnomalyList,
    dependencies=[Depends(auth.require("read"))],
)
async def get_anomalies(
    request: Request,
    state: Literal["active", "resolved"] | None = None,
    since: str = Query("24h", description="RFC 3339, epoch ms or a duration such as `24h`."),
    metric: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> AnomalyList:
    try:
        since_ms = int(timespec.parse_instant(since, host.now()) * 1000)
    except timespec.TimeSpecError as error:
        raise BadRequest(str(error)) from None
    found = await store.each(request.scope["env"], "anomalies", state, since_ms, metric, limit)
    rows = [(f"{i}:{row['id']}", row) for i, part in enumerate(found) for row in part]
    rows.sort(key=lambda item: (item[1]["state"] != "active", -item[1]["last_ms"]))
    items = [to_model(key, row) for key, row in rows[:limit]]
    return AnomalyList(anomalies=items, active=sum(a.state == "active" for a in items))


def to_model(key: str, row: dict[str, Any]) -> Anomaly:
    ended = row.get("ended_ms")
    return Anomaly(
        id=key,
        metric=row["metric"],
        signal=row["fn"],
        labels=json.loads(row["labels"]),
        kind=row["kind"],
        state=row["state"],
        started=timespec.format_rfc3339(row["started_ms"] / 1000),
        last_seen=timespec.format_rfc3339(row["last_ms"] / 1000),
        ended=timespec.format_rfc3339(ended / 1000) if ended else None,
        value=row["value"],
        expected=row["expected"],
        band=Band(lower=row["lower"], upper=row["upper"]),
        score=round(row["score"], 2),
        peak_score=round(row["peak"], 2),
        baseline_days=row["days"],
        unit=row["unit"],
        explanation=row["explanation"],
    )
