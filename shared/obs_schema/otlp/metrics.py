"""OTLP/HTTP metrics: `ExportMetricsServiceRequest` (protobuf or JSON) into plain points.

Gauge, sum, histogram, exponential histogram and summary data points all become `OtlpPoint`s
with string labels: the point's attributes, plus `service` (from the resource's `service.name`)
and `env` (from `deployment.environment[.name]`); other resource attributes (pids, hosts, SDK
versions) are left out, as Prometheus' OTLP receiver leaves them out of series labels, so that
every process restart does not start new series.

A point that cannot be stored (no value, non-finite value, bucket counts that disagree with the
bounds, too many labels) is rejected on its own and counted for `partialSuccess`; points flagged
`NO_RECORDED_VALUE` are skipped silently. Only a body that is no export request is an error.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from obs_schema.otlp import common
from obs_schema.otlp.common import OtlpError

__all__ = ["Decoded", "OtlpPoint", "answer", "decode"]

TYPES = ("gauge", "sum", "histogram", "exponential_histogram", "summary")
MAX_LABELS = 32
MAX_LABEL_CHARS = 1024
NO_RECORDED_VALUE = 1
_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:./-]{0,254}")
_RESOURCE_LABELS = {
    "service.name": "service",
    "deployment.environment.name": "env",
    "deployment.environment": "env",
}
_JSON_TYPES = {
    "gauge": "gauge",
    "sum": "sum",
    "histogram": "histogram",
    "exponentialHistogram": "exponential_histogram",
    "summary": "summary",
}


@dataclass(slots=True)
class OtlpPoint:
    """One data point; fields beyond `value` are filled for the histogram-like types."""

    name: str
    unit: str
    type: str  # one of TYPES
    labels: dict[str, str]
    time_ns: int
    start_ns: int = 0
    temporality: int = 0  # 0 unspecified (gauges), 1 delta, 2 cumulative
    monotonic: bool = False
    value: float | None = None
    count: int = 0
    sum: float | None = None
    bounds: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    scale: int = 0
    zero_count: int = 0
    zero_threshold: float = 0.0
    positive: tuple[int, list[int]] = (0, [])
    negative: tuple[int, list[int]] = (0, [])
    quantiles: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class Decoded(common.Rejections):
    points: list[OtlpPoint] = field(default_factory=list)


def decode(body: bytes, kind: str) -> Decoded:
    """The points of one export request in encoding `kind` (`common.PROTOBUF`/`common.JSON`)."""
    message = common.decode(body, kind, ExportMetricsServiceRequest)
    out = Decoded()
    if isinstance(message, dict):
        _from_json(message, out)
    else:
        _from_protobuf(message, out)
    return out


def answer(kind: str, decoded: Decoded) -> bytes:
    """The `ExportMetricsServiceResponse` body: `{}` or a `partialSuccess` naming rejections."""
    return common.success(
        kind,
        ExportMetricsServiceResponse,
        "rejected_data_points",
        decoded.rejected,
        decoded.error_message,
    )


# --- protobuf -------------------------------------------------------------------------------
def _from_protobuf(request: Any, out: Decoded) -> None:
    for r, resource_metrics in enumerate(request.resource_metrics):
        base = _resource_labels(common.attributes(resource_metrics.resource.attributes))
        for s, scope_metrics in enumerate(resource_metrics.scope_metrics):
            for m, metric in enumerate(scope_metrics.metrics):
                where = f"resourceMetrics[{r}].scopeMetrics[{s}].metrics[{m}]"
                if not _NAME.fullmatch(metric.name):
                    out.reject(where, f"invalid metric name {metric.name[:60]!r}")
                    continue
                kind = metric.WhichOneof("data")
                if kind not in TYPES:
                    out.reject(where, "metric has no gauge, sum, histogram or summary data")
                    continue
                data = getattr(metric, kind)
                for i, dp in enumerate(data.data_points):
                    try:
                        point = _point_pb(metric.name, metric.unit, kind, data, dp, base)
                    except OtlpError as error:
                        out.reject(f"{where}.dataPoints[{i}]", str(error))
                        continue
                    if point is not None:
                        out.points.append(point)


def _point_pb(
    name: str, unit: str, kind: str, data: Any, dp: Any, base: dict[str, str]
) -> OtlpPoint | None:
    if dp.flags & NO_RECORDED_VALUE:
        return None
    labels = _labels(base, common.attributes(dp.attributes)) if dp.attributes else dict(base)
    point = OtlpPoint(name, unit, kind, labels, dp.time_unix_nano, dp.start_time_unix_nano)
    if kind in ("gauge", "sum"):
        which = dp.WhichOneof("value")
        if which is None:
            raise OtlpError("number data point has neither asDouble nor asInt")
        point.value = _finite(float(getattr(dp, which)))
        if kind == "sum":
            point.temporality, point.monotonic = data.aggregation_temporality, data.is_monotonic
        return _checked(point)
    point.count = dp.count
    point.sum = _finite(dp.sum) if kind == "summary" or dp.HasField("sum") else None
    if kind == "summary":
        point.temporality = 2
        point.quantiles = [(_finite(q.quantile), _finite(q.value)) for q in dp.quantile_values]
        return _checked(point)
    point.temporality = data.aggregation_temporality
    if kind == "histogram":
        point.bounds = [_finite(b) for b in dp.explicit_bounds]
        point.counts = list(dp.bucket_counts)
    else:
        point.scale, point.zero_count = dp.scale, dp.zero_count
        point.zero_threshold = dp.zero_threshold
        point.positive = (dp.positive.offset, list(dp.positive.bucket_counts))
        point.negative = (dp.negative.offset, list(dp.negative.bucket_counts))
    return _checked(point)


# --- JSON -----------------------------------------------------------------------------------
def _from_json(request: dict[str, Any], out: Decoded) -> None:
    resources = _objects(request.get("resourceMetrics"), "resourceMetrics")
    for r, resource_metrics in enumerate(resources):
        resource = resource_metrics.get("resource") or {}
        if not isinstance(resource, dict):
            raise OtlpError(f"resourceMetrics[{r}].resource must be an object")
        base = _resource_labels(common.attributes_json(resource.get("attributes") or []))
        where = f"resourceMetrics[{r}].scopeMetrics"
        for s, scope_metrics in enumerate(_objects(resource_metrics.get("scopeMetrics"), where)):
            where_scope = f"{where}[{s}]"
            metrics = _objects(scope_metrics.get("metrics"), f"{where_scope}.metrics")
            for m, metric in enumerate(metrics):
                _metric_json(metric, base, f"{where_scope}.metrics[{m}]", out)


def _metric_json(metric: dict[str, Any], base: dict[str, str], where: str, out: Decoded) -> None:
    name, unit = metric.get("name"), metric.get("unit", "")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        out.reject(where, f"invalid metric name {str(name)[:60]!r}")
        return
    found = [key for key in _JSON_TYPES if isinstance(metric.get(key), dict)]
    if not found:
        out.reject(where, "metric has no gauge, sum, histogram or summary data")
        return
    data, kind = metric[found[0]], _JSON_TYPES[found[0]]
    for i, dp in enumerate(_objects(data.get("dataPoints"), f"{where}.dataPoints")):
        try:
            point = _point_json(name, unit if isinstance(unit, str) else "", kind, data, dp, base)
        except (OtlpError, TypeError, ValueError) as error:
            out.reject(f"{where}.dataPoints[{i}]", str(error)[:200])
            continue
        if point is not None:
            out.points.append(point)


def _point_json(
    name: str, unit: str, kind: str, data: dict[str, Any], dp: dict[str, Any], base: dict[str, str]
) -> OtlpPoint | None:
    if int(dp.get("flags") or 0) & NO_RECORDED_VALUE:
        return None
    attributes = dp.get("attributes")
    labels = _labels(base, common.attributes_json(attributes)) if attributes else dict(base)
    time_ns = common.int64(dp.get("timeUnixNano", 0))
    start_ns = common.int64(dp.get("startTimeUnixNano", 0))
    point = OtlpPoint(name, unit, kind, labels, time_ns, start_ns)
    if kind in ("gauge", "sum"):
        if "asDouble" in dp:
            point.value = _finite(common.any_value_json({"doubleValue": dp["asDouble"]}))
        elif "asInt" in dp:
            point.value = float(common.int64(dp["asInt"]))
        else:
            raise OtlpError("number data point has neither asDouble nor asInt")
        if kind == "sum":
            point.temporality = _temporality(data)
            point.monotonic = bool(data.get("isMonotonic", False))
        return _checked(point)
    point.count = common.int64(dp.get("count", 0))
    point.sum = _finite(float(dp["sum"])) if dp.get("sum") is not None else None
    if kind == "summary":
        point.temporality = 2
        point.sum = point.sum if point.sum is not None else 0.0
        point.quantiles = [
            (_finite(float(q.get("quantile", 0))), _finite(float(q.get("value", 0))))
            for q in _objects(dp.get("quantileValues"), "quantileValues")
        ]
        return _checked(point)
    point.temporality = _temporality(data)
    if kind == "histogram":
        point.bounds = [_finite(float(b)) for b in dp.get("explicitBounds") or []]
        point.counts = [common.int64(c) for c in dp.get("bucketCounts") or []]
    else:
        point.scale = int(dp.get("scale", 0))
        point.zero_count = common.int64(dp.get("zeroCount", 0))
        point.zero_threshold = _finite(float(dp.get("zeroThreshold", 0.0)))
        point.positive = _buckets_json(dp.get("positive"))
        point.negative = _buckets_json(dp.get("negative"))
    return _checked(point)


def _buckets_json(value: Any) -> tuple[int, list[int]]:
    if not value:
        return (0, [])
    if not isinstance(value, dict):
        raise OtlpError("positive/negative buckets must be an object")
    return int(value.get("offset", 0)), [common.int64(c) for c in value.get("bucketCounts") or []]


def _temporality(data: dict[str, Any]) -> int:
    value = data.get("aggregationTemporality", 0)
    names = {"AGGREGATION_TEMPORALITY_DELTA": 1, "AGGREGATION_TEMPORALITY_CUMULATIVE": 2}
    if isinstance(value, str):
        value = names.get(value, 0)
    if not isinstance(value, int) or value not in (0, 1, 2):
        raise OtlpError("aggregationTemporality must be 0, 1 or 2")
    return value


def _objects(value: Any, where: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise OtlpError(f"{where} must be a list of objects")
    return value


# --- shared ---------------------------------------------------------------------------------
def _checked(point: OtlpPoint) -> OtlpPoint:
    if point.time_ns <= 0:
        raise OtlpError("timeUnixNano is required")
    if point.type == "histogram" and len(point.counts) != len(point.bounds) + 1:
        raise OtlpError("bucketCounts must have one more entry than explicitBounds")
    if point.type == "histogram" and sum(point.counts) != point.count:
        raise OtlpError("count must equal the sum of bucketCounts")
    if point.type == "exponential_histogram" and not -10 <= point.scale <= 20:
        raise OtlpError("scale must be between -10 and 20")
    if point.count < 0 or any(c < 0 for c in point.counts):
        raise OtlpError("counts must not be negative")
    if point.type == "sum" and point.monotonic and point.value is not None and point.value < 0:
        raise OtlpError("a monotonic sum cannot be negative")
    return point


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise OtlpError("values must be finite numbers")
    return value


def _resource_labels(resource: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for key, label in _RESOURCE_LABELS.items():
        value = resource.get(key)
        if value not in (None, "") and label not in labels:
            labels[label] = _text(value)[:MAX_LABEL_CHARS]
    return labels


def _labels(base: dict[str, str], attributes: dict[str, Any]) -> dict[str, str]:
    if len(attributes) + len(base) > MAX_LABELS:
        raise OtlpError(f"more than {MAX_LABELS} labels")
    labels = dict(base)
    for key, value in attributes.items():
        text = _text(value)
        if len(text) > MAX_LABEL_CHARS or len(key) > 128:
            raise OtlpError(f"label {key[:40]!r} is longer than allowed")
        labels[key] = text
    return labels


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
