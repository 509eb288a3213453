"""OTLP metrics decode alike from protobuf and spec JSON; bad points are rejected one by one."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as service

from obs_schema.otlp import common, metrics
from obs_schema.otlp.common import OtlpError
from obs_schema.otlp.metrics import OtlpPoint

T = 1544712660300000000
NS = str(T)
SERVICE = {"key": "service.name", "value": {"stringValue": "my.service"}}
ATTR = {"key": "my.counter.attr", "value": {"stringValue": "some value"}}


def request(*metric: dict[str, Any], resource: list[Any] | None = None) -> dict[str, Any]:
    return {
        "resourceMetrics": [
            {
                "resource": {"attributes": resource if resource is not None else [SERVICE]},
                "scopeMetrics": [{"scope": {"name": "my.library"}, "metrics": list(metric)}],
            }
        ]
    }


# The metrics example of the OTLP specification, plus an exponential histogram and a summary.
SPEC_JSON = request(
    {"name": "my.counter", "unit": "1", "sum": {"aggregationTemporality": 1, "isMonotonic": True,
     "dataPoints": [{"asDouble": 5, "startTimeUnixNano": NS, "timeUnixNano": NS,
                     "attributes": [ATTR]}]}},
    {"name": "my.gauge", "unit": "1",
     "gauge": {"dataPoints": [{"asInt": "10", "timeUnixNano": NS}]}},
    {"name": "my.histogram", "unit": "1", "histogram": {"aggregationTemporality": 1, "dataPoints": [
        {"startTimeUnixNano": NS, "timeUnixNano": NS, "count": "2", "sum": 2,
         "bucketCounts": ["1", "1"], "explicitBounds": [1], "min": 0, "max": 2}]}},
    {"name": "my.exp", "exponentialHistogram": {"aggregationTemporality": 2, "dataPoints": [
        {"timeUnixNano": NS, "count": "4", "sum": 9.5, "scale": 2, "zeroCount": "1",
         "positive": {"offset": 3, "bucketCounts": ["2", "0", "1"]}}]}},
    {"name": "my.summary", "summary": {"dataPoints": [
        {"timeUnixNano": NS, "count": "3", "sum": 1.5,
         "quantileValues": [{"quantile": 0.5, "value": 0.4}, {"quantile": 0.99, "value": 0.9}]}]}},
)  # fmt: skip

EXPECTED = [
    OtlpPoint("my.counter", "1", "sum", {"service": "my.service", "my.counter.attr": "some value"},
              T, T, temporality=1, monotonic=True, value=5.0),
    OtlpPoint("my.gauge", "1", "gauge", {"service": "my.service"}, T, value=10.0),
    OtlpPoint("my.histogram", "1", "histogram", {"service": "my.service"}, T, T, temporality=1,
              count=2, sum=2.0, bounds=[1.0], counts=[1, 1]),
    OtlpPoint("my.exp", "", "exponential_histogram", {"service": "my.service"}, T, temporality=2,
              count=4, sum=9.5, scale=2, zero_count=1, positive=(3, [2, 0, 1])),
    OtlpPoint("my.summary", "", "summary", {"service": "my.service"}, T, temporality=2, count=3,
              sum=1.5, quantiles=[(0.5, 0.4), (0.99, 0.9)]),
]  # fmt: skip


def as_protobuf(body: dict[str, Any]) -> bytes:
    message = json_format.ParseDict(body, service.ExportMetricsServiceRequest())
    return bytes(message.SerializeToString())


@pytest.mark.parametrize("encoding", [common.JSON, common.PROTOBUF])
def test_the_spec_example_decodes_to_the_same_points_in_both_encodings(encoding: str) -> None:
    body = json.dumps(SPEC_JSON).encode() if encoding == common.JSON else as_protobuf(SPEC_JSON)
    decoded = metrics.decode(body, encoding)
    assert (decoded.rejected, decoded.points) == (0, EXPECTED)


def point_with(**changes: Any) -> dict[str, Any]:
    point: dict[str, Any] = {"asDouble": 1.5, "timeUnixNano": NS}
    point.update(changes)
    return {k: v for k, v in point.items() if v is not None}


BAD_POINTS = {
    "no value": ({"name": "g", "gauge": {"dataPoints": [point_with(asDouble=None)]}},
                 "number data point has neither asDouble nor asInt"),
    "no time": ({"name": "g", "gauge": {"dataPoints": [point_with(timeUnixNano=None)]}},
                "timeUnixNano is required"),
    "infinite": ({"name": "g", "gauge": {"dataPoints": [point_with(asDouble="Infinity")]}},
                 "values must be finite numbers"),
    "negative counter": ({"name": "c", "sum": {"isMonotonic": True, "aggregationTemporality": 2,
                          "dataPoints": [point_with(asDouble=-1)]}},
                         "a monotonic sum cannot be negative"),
    "bucket mismatch": ({"name": "h", "histogram": {"dataPoints": [
                         {"timeUnixNano": NS, "count": "1", "bucketCounts": ["1"],
                          "explicitBounds": [1, 2]}]}},
                        "bucketCounts must have one more entry than explicitBounds"),
    "count mismatch": ({"name": "h", "histogram": {"dataPoints": [
                        {"timeUnixNano": NS, "count": "5", "bucketCounts": ["1", "1"],
                         "explicitBounds": [1]}]}},
                       "count must equal the sum of bucketCounts"),
    "too many labels": ({"name": "g", "gauge": {"dataPoints": [point_with(attributes=[
                         {"key": f"k{i}", "value": {"intValue": i}} for i in range(40)])]}},
                        "more than 32 labels"),
}  # fmt: skip


@pytest.mark.parametrize("encoding", [common.JSON, common.PROTOBUF])
@pytest.mark.parametrize(("metric", "reason"), BAD_POINTS.values(), ids=BAD_POINTS.keys())
def test_a_bad_point_is_rejected_alone(encoding: str, metric: dict[str, Any], reason: str) -> None:
    good = {"name": "ok", "gauge": {"dataPoints": [point_with()]}}
    body_json = request(metric, good)
    body = json.dumps(body_json).encode() if encoding == common.JSON else as_protobuf(body_json)
    decoded = metrics.decode(body, encoding)
    assert [p.name for p in decoded.points] == ["ok"]
    assert decoded.rejected == 1
    assert decoded.errors == [
        f"resourceMetrics[0].scopeMetrics[0].metrics[0].dataPoints[0]: {reason}"
    ]


@pytest.mark.parametrize(
    ("metric", "reason"),
    [
        ({"name": "bad name!", "gauge": {"dataPoints": [point_with()]}}, "invalid metric name"),
        ({"name": "empty"}, "metric has no gauge, sum, histogram or summary data"),
    ],
)
def test_a_metric_without_a_usable_name_or_data_rejects_as_one(
    metric: dict[str, Any], reason: str
) -> None:
    decoded = metrics.decode(json.dumps(request(metric)).encode(), common.JSON)
    assert decoded.rejected == 1 and reason in decoded.errors[0]


def test_points_flagged_no_recorded_value_are_skipped_not_rejected() -> None:
    metric = {"name": "g", "gauge": {"dataPoints": [point_with(flags=1), point_with()]}}
    for encoding in (common.JSON, common.PROTOBUF):
        raw = json.dumps(request(metric)).encode()
        body = raw if encoding == common.JSON else as_protobuf(request(metric))
        decoded = metrics.decode(body, encoding)
        assert (len(decoded.points), decoded.rejected) == (1, 0)


def test_resource_attributes_other_than_service_and_environment_are_left_out() -> None:
    resource = [
        SERVICE,
        {"key": "deployment.environment.name", "value": {"stringValue": "prod"}},
        {"key": "process.pid", "value": {"intValue": "4242"}},
    ]
    metric = {"name": "g", "gauge": {"dataPoints": [point_with(attributes=[
        {"key": "ok", "value": {"boolValue": True}},
        {"key": "list", "value": {"arrayValue": {"values": [{"intValue": "1"}]}}},
    ])]}}  # fmt: skip
    decoded = metrics.decode(json.dumps(request(metric, resource=resource)).encode(), common.JSON)
    assert decoded.points[0].labels == {
        "service": "my.service",
        "env": "prod",
        "ok": "true",
        "list": "[1]",
    }


@pytest.mark.parametrize("body", [b"[]", b"nope", b'{"resourceMetrics": 3}'])
def test_a_body_that_is_no_export_request_is_an_error(body: bytes) -> None:
    with pytest.raises(OtlpError):
        metrics.decode(body, common.JSON)


def test_answers_carry_rejections_as_partial_success() -> None:
    decoded = metrics.Decoded()
    assert metrics.answer(common.JSON, decoded) == b"{}"
    for i in range(7):
        decoded.reject(f"p{i}", "bad")
    assert json.loads(metrics.answer(common.JSON, decoded)) == {
        "partialSuccess": {
            "rejectedDataPoints": "7",
            "errorMessage": "p0: bad; p1: bad; p2: bad; p3: bad; p4: bad (and 2 more)",
        }
    }
    proto = service.ExportMetricsServiceResponse.FromString(
        metrics.answer(common.PROTOBUF, decoded)
    )
    assert proto.partial_success.rejected_data_points == 7


def test_json_input_is_not_mutated() -> None:
    body = copy.deepcopy(SPEC_JSON)
    metrics.decode(json.dumps(body).encode(), common.JSON)
    assert body == SPEC_JSON
