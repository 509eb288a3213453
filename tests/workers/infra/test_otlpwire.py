"""The fast OTLP protobuf path stores exactly what the shared decoder's path stores."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from infra import intake, otlpwire
from infra.samples import Batch
from obs_schema.otlp import common, metrics
from tests.workers.infra.helpers import INGEST, READ

T = 1_767_225_600_000_000_000
START = T - 60 * 10**9


def attrs(**values: Any) -> list[KeyValue]:
    out = []
    for key, value in values.items():
        if isinstance(value, bool):
            any_value = AnyValue(bool_value=value)
        elif isinstance(value, int):
            any_value = AnyValue(int_value=value)
        elif isinstance(value, float):
            any_value = AnyValue(double_value=value)
        else:
            any_value = AnyValue(string_value=value)
        out.append(KeyValue(key=key, value=any_value))
    return out


def export(bad_histograms: bool = False) -> bytes:
    """Every kind the fast path takes, with each way a point can be refused or skipped."""
    request = ExportMetricsServiceRequest()
    resource = request.resource_metrics.add()
    resource.resource.attributes.extend(attrs(**{"service.name": "api", "host.name": "h1"}))
    scope = resource.scope_metrics.add()
    gauge = scope.metrics.add(name="queue.depth", unit="1").gauge
    gauge.data_points.add(time_unix_nano=T, as_double=2.5).attributes.extend(attrs(q="a"))
    gauge.data_points.add(time_unix_nano=T, as_int=7).attributes.extend(attrs(q="b", n=3))
    gauge.data_points.add(time_unix_nano=T, as_double=math.inf)  # refused: not finite
    gauge.data_points.add(time_unix_nano=T)  # refused: no value
    gauge.data_points.add(time_unix_nano=0, as_double=1)  # refused: no time
    gauge.data_points.add(time_unix_nano=T, as_double=1, flags=1)  # skipped: no recorded value
    many = gauge.data_points.add(time_unix_nano=T, as_double=1)  # refused: too many labels
    many.attributes.extend(attrs(**{f"k{i}": "v" for i in range(40)}))
    counter = scope.metrics.add(name="requests").sum
    counter.aggregation_temporality, counter.is_monotonic = 2, True
    counter.data_points.add(time_unix_nano=T, start_time_unix_nano=START, as_int=11)
    counter.data_points.add(time_unix_nano=T, start_time_unix_nano=START, as_double=-1)
    delta = scope.metrics.add(name="jobs").sum
    delta.aggregation_temporality = 1
    delta.data_points.add(time_unix_nano=T, as_double=3).attributes.extend(attrs(ok=True))
    updown = scope.metrics.add(name="inflight").sum
    updown.aggregation_temporality = 2
    updown.data_points.add(time_unix_nano=T, start_time_unix_nano=START, as_int=-4)
    histogram = scope.metrics.add(name="latency", unit="s").histogram
    histogram.aggregation_temporality = 2
    histogram.data_points.add(
        time_unix_nano=T, start_time_unix_nano=START, count=4, sum=0.5,
        explicit_bounds=[0.1, 1.0], bucket_counts=[1, 2, 1],
    ).attributes.extend(attrs(route="/a"))  # fmt: skip
    if bad_histograms:
        histogram.data_points.add(
            time_unix_nano=T, count=4, explicit_bounds=[0.1], bucket_counts=[1, 2]
        )  # refused: counts disagree with count
        histogram.data_points.add(
            time_unix_nano=T, count=1, explicit_bounds=[0.1], bucket_counts=[1]
        )  # refused: one count too few
    scope.metrics.add(name="bad name!").gauge.data_points.add(time_unix_nano=T, as_double=1)
    scope.metrics.add(name="empty")  # refused: no data
    return bytes(request.SerializeToString())


def reference(body: bytes) -> tuple[Batch, metrics.Decoded]:
    batch = Batch()
    decoded = metrics.decode(body, common.PROTOBUF)
    intake.add_otlp(batch, decoded.points)
    return batch, decoded


def test_the_fast_path_stores_and_refuses_what_the_shared_decoder_does() -> None:
    body = export()
    fast = Batch()
    decoded = otlpwire.decode_into(fast, body)
    assert decoded is not None
    slow, expected = reference(body)
    assert fast.entries == slow.entries
    assert (decoded.rejected, decoded.errors) == (expected.rejected, expected.errors)
    assert decoded.rejected == 7
    assert ("queue.depth", '{"n":"3","q":"b","service":"api"}') in fast.entries
    assert ("latency_bucket", '{"le":"+Inf","route":"/a","service":"api"}') in fast.entries


def test_a_histogram_point_it_would_refuse_sends_the_request_to_the_shared_decoder() -> None:
    assert otlpwire.decode_into(Batch(), export(bad_histograms=True)) is None
    _, expected = reference(export(bad_histograms=True))
    assert expected.rejected == 9  # the shared decoder words both refusals


def test_kinds_it_does_not_mirror_go_to_the_shared_decoder() -> None:
    request = ExportMetricsServiceRequest()
    scope = request.resource_metrics.add().scope_metrics.add()
    scope.metrics.add(name="sizes").exponential_histogram.data_points.add(time_unix_nano=T)
    assert otlpwire.decode_into(Batch(), bytes(request.SerializeToString())) is None
    assert otlpwire.decode_into(Batch(), b"\xff\xff") is None  # the shared decoder words it


@pytest.mark.anyio
async def test_a_protobuf_export_with_refused_histogram_points_is_a_partial_success(
    http: httpx.AsyncClient,
) -> None:
    headers = {"content-type": "application/x-protobuf", **INGEST}
    reply = await http.post("/v1/metrics", content=export(bad_histograms=True), headers=headers)
    assert reply.status_code == 200
    answer = ExportMetricsServiceResponse.FromString(reply.content)
    assert answer.partial_success.rejected_data_points == 9
    chart = await http.get(
        "/infra/timeseries", params={"metric": "latency", "fn": "count", "since": "5m"},
        headers=READ,
    )  # fmt: skip
    assert chart.json()["series"][0]["points"][-1][1] == 4.0  # the good point is stored
