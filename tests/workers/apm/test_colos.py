"""`colo_stats` over RPC: requests, errors and p95 per edge location of server spans."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from apm.colos import ColoStatsError
from localedge.stack import Stack
from tests.workers.apm.conftest import INGEST, START
from tests.workers.apm.test_routes_query import send, span

MS = int(START * 1000)
HOUR_MS = 3_600_000


def otlp(colo_resource: dict[str, str], durations_ms: list[float]) -> dict[str, Any]:
    """Server spans of one resource, as spec JSON (the resource names the colo)."""
    spans = [
        {
            "traceId": f"{0xC0 + i:032x}",
            "spanId": f"{0xC0 + i:016x}",
            "name": "GET /",
            "kind": 2,
            "startTimeUnixNano": str(MS * 1_000_000),
            "endTimeUnixNano": str(int((MS + ms) * 1_000_000)),
        }
        for i, ms in enumerate(durations_ms)
    ]
    attributes = [
        {"key": key, "value": {"stringValue": value}}
        for key, value in {"service.name": "edge", **colo_resource}.items()
    ]
    return {"resourceSpans": [{"resource": {"attributes": attributes}, "scopeSpans": [
        {"scope": {"name": "t"}, "spans": spans}]}]}  # fmt: skip


async def colo_stats(stack: Stack, start_ms: Any, end_ms: Any) -> list[dict[str, Any]]:
    return list(await stack.worker("obs-apm").entrypoint().colo_stats(start_ms, end_ms))


@pytest.mark.anyio
async def test_colos_come_from_span_attributes_cf_ray_and_cloudflare_regions(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    await send(
        http,
        [
            span(1, 1, ms=20.0, attributes={"cloudflare.colo": "cdg"}),
            span(2, 2, ms=40.0, attributes={"cf.colo": "CDG"}, status={"code": "error"}),
            span(3, 3, ms=30.0, attributes={"http.request.header.cf-ray": ["8a1b2c3d4e5f-AMS"]}),
            span(4, 4, ms=50.0, attributes={"cloudflare.colo": "LHR"}, kind="client"),
            span(5, 5, ms=50.0),  # no colo: not counted
        ],
    )
    body = otlp({"cloud.provider": "cloudflare", "cloud.region": "sjc"}, [10.0, 12.0, 14.0])
    assert (await http.post("/v1/traces", json=body, headers=INGEST)).status_code == 200
    aws = otlp({"cloud.provider": "aws", "cloud.region": "us-east-1"}, [10.0])
    aws["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] = "f" * 32
    assert (await http.post("/v1/traces", json=aws, headers=INGEST)).status_code == 200

    found = await colo_stats(stack, MS - 60_000, MS + 60_000)

    assert found == [
        {"colo": "SJC", "requests": 3, "errors": 0, "p95_ms": pytest.approx(14.0, rel=0.01)},
        {"colo": "CDG", "requests": 2, "errors": 1, "p95_ms": pytest.approx(40.0, rel=0.01)},
        {"colo": "AMS", "requests": 1, "errors": 0, "p95_ms": pytest.approx(30.0, rel=0.01)},
    ]


@pytest.mark.anyio
async def test_colo_windows_cover_whole_minutes_and_survive_the_hourly_rollup(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    await send(http, [span(1, 1, attributes={"cf.colo": "FRA"})])
    assert await colo_stats(stack, MS + 60_000, MS + 120_000) == []  # a later minute
    await stack.advance(3 * 3600)  # the minute cron folds the minute into hour rows
    day = await colo_stats(stack, float(MS - HOUR_MS), float(MS + 3 * HOUR_MS))  # JS numbers
    assert [(row["colo"], row["requests"]) for row in day] == [("FRA", 1)]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("0", MS, "start_ms must be epoch milliseconds"),
        (True, MS, "start_ms must be epoch milliseconds"),
        (MS, float("nan"), "end_ms must be finite"),
        (MS, MS - 1, "end_ms is before start_ms"),
        (MS - 40 * 24 * HOUR_MS, MS, "longer than the 30 days"),
    ],
)
async def test_colo_stats_refuses_what_is_not_a_window(
    stack: Stack, start: Any, end: Any, message: str
) -> None:
    with pytest.raises(ColoStatsError, match=message):
        await colo_stats(stack, start, end)
