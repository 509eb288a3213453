"""Metric intake through HTTP on the local stack: OTLP from the real SDK, and native JSON."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.common._internal.metrics_encoder import encode_metrics
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.metrics.view import (
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
    View,
)
from opentelemetry.sdk.resources import Resource

from localedge.clock import ManualClock
from localedge.stack import Stack, StackOptions
from tests.stacks import gateway_client
from tests.workers.infra.helpers import INGEST, READ, ROOT, TOKENS, fresh_telemetry

PROTOBUF = {"content-type": "application/x-protobuf", **INGEST}


@pytest.fixture
def clock() -> ManualClock:
    """The SDK stamps points with the real time, so the stack's clock starts there too."""
    return ManualClock(start=float(int(time.time())))


def sdk_export(exponential: bool = False) -> bytes:
    """What the OpenTelemetry SDK's OTLP exporter sends for a counter, gauge and histogram."""
    reader = InMemoryMetricReader()
    aggregation = (
        ExponentialBucketHistogramAggregation()
        if exponential
        else ExplicitBucketHistogramAggregation([0.01, 0.05, 0.5])
    )
    provider = MeterProvider(
        metric_readers=[reader],
        resource=Resource.create({"service.name": "pitchey-api", "host.name": "box-1"}),
        views=[View(instrument_name="latency", aggregation=aggregation)],
    )
    meter = provider.get_meter("test")
    meter.create_counter("requests", unit="1").add(7, {"route": "/pitches"})
    meter.create_gauge("queue.depth").set(12, {"queue": "emails"})
    histogram = meter.create_histogram("latency", unit="s")
    for value in (0.004, 0.02, 0.02, 0.3):
        histogram.record(value, {"route": "/pitches"})
    data = reader.get_metrics_data()
    provider.shutdown()
    return bytes(encode_metrics(data).SerializeToString())


async def series(http: httpx.AsyncClient, metric: str, **params: str) -> dict[str, Any]:
    reply = await http.get(
        "/infra/timeseries", params={"metric": metric, "since": "5m", "step": "5m", **params},
        headers=READ,
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def last_values(reply: dict[str, Any]) -> list[float | None]:
    return [s["points"][-1][1] for s in reply["series"]]


@pytest.mark.anyio
async def test_the_otel_sdk_export_is_stored_and_charted(http: httpx.AsyncClient) -> None:
    reply = await http.post("/v1/metrics", content=sdk_export(), headers=PROTOBUF)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/x-protobuf"
    answer = ExportMetricsServiceResponse.FromString(reply.content)
    assert answer.partial_success.rejected_data_points == 0
    requests = await series(http, "requests")
    assert requests["kind"] == "counter"
    assert requests["series"][0]["labels"] == {"route": "/pitches", "service": "pitchey-api"}
    assert last_values(requests) == [7.0]  # a fresh cumulative stream counts from its start
    assert last_values(await series(http, "queue.depth")) == [12.0]
    latency = await series(http, "latency", fn="count")
    assert (latency["kind"], last_values(latency)) == ("histogram", [4.0])
    # Buckets (..0.01] (0.01..0.05] (0.05..0.5] hold 1, 2, 1: the median interpolates to 0.03.
    assert last_values(await series(http, "latency", fn="p50")) == [pytest.approx(0.03)]


@pytest.mark.anyio
async def test_exponential_histograms_land_on_one_bucket_grid(http: httpx.AsyncClient) -> None:
    reply = await http.post("/v1/metrics", content=sdk_export(exponential=True), headers=PROTOBUF)
    assert reply.status_code == 200
    mean = last_values(await series(http, "latency", fn="mean"))[0]
    assert mean == pytest.approx((0.004 + 0.02 + 0.02 + 0.3) / 4)
    p50 = last_values(await series(http, "latency", fn="p50"))[0]
    assert p50 is not None and 0.02 / 1.1 < p50 <= 0.02 * 1.1  # grid buckets are ~9% wide


@pytest.mark.anyio
async def test_otlp_json_with_a_bad_point_is_a_partial_success(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    now_ns = str(int(clock.now()) * 1_000_000_000)
    body = {
        "resourceMetrics": [{"resource": {"attributes": []}, "scopeMetrics": [{"metrics": [
            {"name": "temp", "gauge": {"dataPoints": [
                {"asDouble": 21.5, "timeUnixNano": now_ns},
                {"timeUnixNano": now_ns},
            ]}},
        ]}]}]
    }  # fmt: skip
    reply = await http.post(
        "/v1/metrics", content=gzip.compress(json.dumps(body).encode()),
        headers={"content-type": "application/json", "content-encoding": "gzip", **INGEST},
    )  # fmt: skip
    assert reply.status_code == 200
    assert reply.json() == {
        "partialSuccess": {
            "rejectedDataPoints": "1",
            "errorMessage": "resourceMetrics[0].scopeMetrics[0].metrics[0].dataPoints[1]: "
            "number data point has neither asDouble nor asInt",
        }
    }
    assert last_values(await series(http, "temp")) == [21.5]


OTLP_ERRORS = [
    ({"content-type": "text/plain", **INGEST}, b"x", 415, "unsupported_media_type"),
    ({"content-type": "application/json"}, b"{}", 401, "unauthorized"),
    ({"content-type": "application/json", **READ}, b"{}", 403, "forbidden"),
    ({"content-type": "application/x-protobuf", **INGEST}, b"\xff\xff", 400, "protobuf"),
    ({"content-type": "application/json", **INGEST}, b"[1]", 400, "JSON object"),
]


@pytest.mark.anyio
async def test_otlp_errors_answer_with_the_right_status(http: httpx.AsyncClient) -> None:
    for headers, body, status, check in OTLP_ERRORS:
        reply = await http.post("/v1/metrics", content=body, headers=headers)
        assert (reply.status_code, check in reply.text) == (status, True), check


@pytest.mark.anyio
async def test_native_points_are_stored_and_bad_ones_reported_by_index(
    http: httpx.AsyncClient,
) -> None:
    points = [
        {"name": "kv_reads_total", "kind": "counter", "value": 4, "temporality": "delta"},
        {"name": "kv_reads_total", "kind": "counter", "value": 3, "temporality": "delta"},
        {"name": "queue_depth", "kind": "gauge"},
        {"name": "render_seconds", "kind": "histogram", "value": 0.25},
    ]
    reply = await http.post("/infra/metrics", json=points, headers=INGEST)
    assert reply.status_code == 200
    assert reply.json() == {
        "accepted": 3,
        "rejected": [{"index": 2, "error": "point: Value error, a gauge needs a value"}],
        "refused": 0,
        "errors": [],
    }
    assert last_values(await series(http, "kv_reads_total")) == [7.0]
    assert last_values(await series(http, "render_seconds", fn="mean")) == [0.25]


@pytest.mark.anyio
async def test_native_bodies_that_store_nothing_are_errors(http: httpx.AsyncClient) -> None:
    cases = [
        (b"{nope", 400, "invalid_json"),
        (b'{"points": 3}', 422, "validation_failed"),
        (b'[{"name": "x", "kind": "gauge"}]', 422, "validation_failed"),
    ]
    for body, status, code in cases:
        reply = await http.post("/infra/metrics", content=body, headers=INGEST)
        assert (reply.status_code, reply.json()["error"]["code"]) == (status, code)


@pytest.mark.anyio
async def test_acknowledged_points_survive_a_restart(tmp_path: Any) -> None:
    clock = ManualClock()
    options = StackOptions(root=ROOT, data_dir=tmp_path / "data", clock=clock, secrets=TOKENS)

    for attempt in range(2):
        stack = Stack(options)
        await stack.start(run_timers=False)
        fresh_telemetry(stack)
        async with gateway_client(stack, "http://x") as http:
            if attempt == 0:
                point = {"name": "stored", "kind": "gauge", "value": 42}
                assert (await http.post("/infra/metrics", json=[point], headers=INGEST)).is_success
            else:
                assert last_values(await series(http, "stored")) == [42.0]
        await stack.close()
