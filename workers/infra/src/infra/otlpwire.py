"""OTLP/HTTP protobuf metrics straight into a `Batch`, without an object per data point.

The shared decoder (`obs_schema.otlp.metrics`) builds an `OtlpPoint` with a label dict per data
point; at tens of thousands of points a second that is most of the cost. Here the request is
parsed with message classes that mirror OTLP's field numbers but declare every `attributes`
field as `repeated bytes`: a point's attributes arrive as a tuple of the raw `KeyValue`
encodings, which is hashable, so a label set is decoded, validated and canonicalised once and
found again by a dictionary lookup. Everything else a point carries is read as a plain field.

The rules are the shared decoder's (which label, which rejection, which reason); requests with
exponential histograms or summaries, rare and costly to mirror, take the shared decoder whole.
"""

from __future__ import annotations

import math
import sys
from array import array
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from infra.samples import Batch, Block
from infra.series import canonical_labels
from obs_schema.otlp import common, metrics
from obs_schema.otlp.common import OtlpError

_F = descriptor_pb2.FieldDescriptorProto
_REPEATED, _OPTIONAL = _F.LABEL_REPEATED, _F.LABEL_OPTIONAL
_PACKAGE = "infra_otlp_lite"
# (message, [(number, name, type, repeated, message type, oneof)]); numbers are OTLP's.
_MESSAGES: list[tuple[str, list[tuple[int, str, int, bool, str, str]]]] = [
    ("Request", [(1, "resource_metrics", _F.TYPE_MESSAGE, True, "ResourceMetrics", "")]),
    ("ResourceMetrics", [(1, "resource", _F.TYPE_MESSAGE, False, "Resource", ""),
                         (2, "scope_metrics", _F.TYPE_MESSAGE, True, "ScopeMetrics", "")]),
    ("Resource", [(1, "attributes", _F.TYPE_BYTES, True, "", "")]),
    ("ScopeMetrics", [(2, "metrics", _F.TYPE_MESSAGE, True, "Metric", "")]),
    ("Metric", [(1, "name", _F.TYPE_STRING, False, "", ""),
                (3, "unit", _F.TYPE_STRING, False, "", ""),
                (5, "gauge", _F.TYPE_MESSAGE, False, "Gauge", "data"),
                (7, "sum", _F.TYPE_MESSAGE, False, "Sum", "data"),
                (9, "histogram", _F.TYPE_MESSAGE, False, "Histogram", "data"),
                (10, "exponential_histogram", _F.TYPE_BYTES, False, "", "data"),
                (11, "summary", _F.TYPE_BYTES, False, "", "data")]),
    ("Gauge", [(1, "data_points", _F.TYPE_MESSAGE, True, "NumberDataPoint", "")]),
    ("Sum", [(1, "data_points", _F.TYPE_MESSAGE, True, "NumberDataPoint", ""),
             (2, "aggregation_temporality", _F.TYPE_INT32, False, "", ""),
             (3, "is_monotonic", _F.TYPE_BOOL, False, "", "")]),
    ("Histogram", [(1, "data_points", _F.TYPE_MESSAGE, True, "HistogramDataPoint", ""),
                   (2, "aggregation_temporality", _F.TYPE_INT32, False, "", "")]),
    ("NumberDataPoint", [(7, "attributes", _F.TYPE_BYTES, True, "", ""),
                         (2, "start_time_unix_nano", _F.TYPE_FIXED64, False, "", ""),
                         (3, "time_unix_nano", _F.TYPE_FIXED64, False, "", ""),
                         (4, "as_double", _F.TYPE_DOUBLE, False, "", "value"),
                         (6, "as_int", _F.TYPE_SFIXED64, False, "", "value"),
                         (8, "flags", _F.TYPE_UINT32, False, "", "")]),
    ("HistogramDataPoint", [(9, "attributes", _F.TYPE_BYTES, True, "", ""),
                            (2, "start_time_unix_nano", _F.TYPE_FIXED64, False, "", ""),
                            (3, "time_unix_nano", _F.TYPE_FIXED64, False, "", ""),
                            (4, "count", _F.TYPE_FIXED64, False, "", ""),
                            (5, "sum", _F.TYPE_DOUBLE, False, "", "_sum"),
                            # Packed (as every SDK sends them): read as raw bytes.
                            (6, "bucket_counts", _F.TYPE_BYTES, False, "", ""),
                            (7, "explicit_bounds", _F.TYPE_BYTES, False, "", ""),
                            (10, "flags", _F.TYPE_UINT32, False, "", "")]),
]  # fmt: skip


def _request_class() -> Any:
    file = descriptor_pb2.FileDescriptorProto(
        name=f"{_PACKAGE}.proto", package=_PACKAGE, syntax="proto3"
    )
    for name, fields in _MESSAGES:
        message = file.message_type.add(name=name)
        oneofs: dict[str, int] = {}
        for number, field_name, kind, repeated, type_name, oneof in fields:
            field = message.field.add(name=field_name, number=number, type=kind)
            field.label = _REPEATED if repeated else _OPTIONAL
            if type_name:
                field.type_name = f".{_PACKAGE}.{type_name}"
            if oneof:
                if oneof not in oneofs:
                    oneofs[oneof] = len(message.oneof_decl)
                    message.oneof_decl.add(name=oneof)
                field.oneof_index = oneofs[oneof]
                field.proto3_optional = oneof.startswith("_")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.Request"))


_REQUEST = _request_class()
NO_RECORDED_VALUE = metrics.NO_RECORDED_VALUE
_SLOW_KINDS = ("exponential_histogram", "summary")
_CACHE_LIMIT = 100_000
# Label sets seen before: (resource labels, raw attributes) -> canonical labels, or the
# reason the point is refused. Exports repeat their label sets, so this stays small.
_LABELS: dict[tuple[str, tuple[bytes, ...]], str | OtlpError] = {}
_RESOURCES: dict[tuple[bytes, ...], tuple[str, dict[str, str]]] = {}
_NAMES: dict[str, bool] = {}


def decode_into(batch: Batch, body: bytes) -> metrics.Decoded | None:
    """Add a protobuf export request's points to `batch`; None when it needs the shared decoder
    (exponential histograms, summaries, or a body this parser cannot read)."""
    request = _REQUEST()
    try:
        request.ParseFromString(body)
    except (DecodeError, ValueError):
        return None  # the shared decoder words the error
    for resource_metrics in request.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.WhichOneof("data") in _SLOW_KINDS:
                    return None
    out = metrics.Decoded()
    try:
        for r, resource_metrics in enumerate(request.resource_metrics):
            resource = _resource(tuple(resource_metrics.resource.attributes))
            for s, scope_metrics in enumerate(resource_metrics.scope_metrics):
                for m, metric in enumerate(scope_metrics.metrics):
                    where = f"resourceMetrics[{r}].scopeMetrics[{s}].metrics[{m}]"
                    _metric(batch, metric, resource, where, out)
    except Unusual:
        return None  # the caller starts afresh with the shared decoder
    return out


def _metric(batch: Batch, metric: Any, resource: tuple[str, dict[str, str]], where: str,
            out: metrics.Decoded) -> None:  # fmt: skip
    name = metric.name
    valid = _NAMES.get(name)
    if valid is None:
        valid = _NAMES[name] = metrics._NAME.fullmatch(name) is not None
        if len(_NAMES) > _CACHE_LIMIT:
            _NAMES.clear()
    if not valid:
        out.reject(where, f"invalid metric name {name[:60]!r}")
        return
    kind = metric.WhichOneof("data")
    if kind is None:
        out.reject(where, "metric has no gauge, sum, histogram or summary data")
        return
    if kind == "histogram":
        _histograms(batch, name, metric.unit, metric.histogram, resource, where, out)
    elif kind == "gauge":
        _numbers(batch, name, metric.unit, metric.gauge.data_points, "gauge", False, resource,
                 where, out)  # fmt: skip
    else:
        data = metric.sum
        cumulative = data.aggregation_temporality != 1
        monotonic = bool(data.is_monotonic)
        counter = monotonic or not cumulative
        _numbers(batch, name, metric.unit, data.data_points, "counter" if counter else "gauge",
                 cumulative and counter, resource, where, out, monotonic)  # fmt: skip


def _numbers(
    batch: Batch, name: str, unit: str, points: Any, kind: str, cumulative: bool,
    resource: tuple[str, dict[str, str]], where: str, out: metrics.Decoded,
    monotonic: bool = False,
) -> None:  # fmt: skip
    agg = "sum" if kind == "counter" else "last"
    block = batch.block(name, name, kind, "value", agg, None, unit, cumulative)
    ids, ts, starts, values = block.ids, block.ts, block.starts, block.values
    isfinite, numbered, cached = math.isfinite, batch.labels, _LABELS.get
    base, counter = resource[0], kind == "counter"  # a gauge keeps no start time
    for i, dp in enumerate(points):
        if dp.flags & NO_RECORDED_VALUE:
            continue
        raw = tuple(dp.attributes)
        labels = cached((base, raw)) or _labels(resource, raw)
        which = dp.WhichOneof("value")
        value = dp.as_double if which == "as_double" else float(dp.as_int)
        t_ns = dp.time_unix_nano
        if (type(labels) is not str or which is None or not isfinite(value) or t_ns <= 0
                or (monotonic and value < 0)):  # fmt: skip
            out.reject(f"{where}.dataPoints[{i}]", _number_problem(labels, which, value, t_ns))
            continue
        label = numbered.get(labels)
        if label is None:
            label = batch.label_id(labels)
        ids.append(label)
        ts.append(t_ns // 1_000_000)
        starts.append(dp.start_time_unix_nano // 1_000_000 if counter else 0)
        values.append(value)
    batch.points += len(ids)


def _number_problem(labels: str | OtlpError, which: str | None, value: float, t_ns: int) -> str:
    if not isinstance(labels, str):
        return str(labels)
    if which is None:
        return "number data point has neither asDouble nor asInt"
    if not math.isfinite(value):
        return "values must be finite numbers"
    if t_ns <= 0:
        return "timeUnixNano is required"
    return "a monotonic sum cannot be negative"


class Unusual(Exception):
    """Something the fast path does not mirror: the shared decoder takes the request."""


def _histograms(batch: Batch, family: str, unit: str, data: Any,
                resource: tuple[str, dict[str, str]], where: str,
                out: metrics.Decoded) -> None:  # fmt: skip
    """Histogram points. Bounds and counts are read from their packed bytes (a cached tuple of
    bounds, one array conversion of counts); a point these do not describe exactly (counts
    split in several packed runs or not packed, or any refused point) sends the request to
    the shared decoder, which reads every encoding and words every refusal."""
    cumulative = data.aggregation_temporality != 1
    numbered, cached, base = batch.labels, _LABELS.get, resource[0]
    by_bounds: dict[bytes, tuple[int, list[Block]]] = {}
    added = 0
    for dp in data.data_points:
        if dp.flags & NO_RECORDED_VALUE:
            continue
        raw = tuple(dp.attributes)
        labels = cached((base, raw)) or _labels(resource, raw)
        packed = dp.explicit_bounds
        found = by_bounds.get(packed)
        if found is None:
            found = by_bounds[packed] = _bucket_blocks(batch, family, packed, cumulative, unit)
        buckets, blocks = found
        counts = _counts(dp.bucket_counts)
        has_sum, t_ns, count = dp.HasField("sum"), dp.time_unix_nano, dp.count
        total = dp.sum if has_sum else 0.0
        if (type(labels) is not str or t_ns <= 0 or len(counts) != buckets
                or sum(counts) != count or (has_sum and not math.isfinite(total))):  # fmt: skip
            raise Unusual
        label = numbered.get(labels)
        if label is None:
            label = batch.label_id(labels)
        t_ms, start_ms = t_ns // 1_000_000, dp.start_time_unix_nano // 1_000_000
        for block, value in zip(blocks, (count, total, *counts), strict=True):
            block.ids.append(label)
            block.ts.append(t_ms)
            block.starts.append(start_ms)
            block.values.append(value)
        added += len(blocks)
    batch.points += added


def _bucket_blocks(
    batch: Batch, family: str, packed: bytes, cumulative: bool, unit: str
) -> tuple[int, list[Block]]:
    """(number of buckets, their blocks) for packed explicit bounds."""
    if len(packed) % 8:
        raise Unusual
    bounds = array("d")
    bounds.frombytes(packed)
    if sys.byteorder != "little":
        bounds.byteswap()
    if not all(map(math.isfinite, bounds)):
        raise Unusual
    les = (*bounds.tolist(), math.inf)
    return len(les), batch.histogram_blocks(family, les, cumulative, unit, "bucket")


def _counts(packed: bytes) -> list[int]:
    if len(packed) % 8:
        raise Unusual
    counts = array("Q")
    counts.frombytes(packed)
    if sys.byteorder != "little":
        counts.byteswap()
    return counts.tolist()


def _resource(raw: tuple[bytes, ...]) -> tuple[str, dict[str, str]]:
    """The resource's labels (`service`, `env`), as a cache key and as a dict."""
    found = _RESOURCES.get(raw)
    if found is None:
        base = metrics._resource_labels(common.attributes(_key_values(raw)))
        found = (canonical_labels(base), base)
        if len(_RESOURCES) > _CACHE_LIMIT:
            _RESOURCES.clear()
        _RESOURCES[raw] = found
    return found


def _labels(resource: tuple[str, dict[str, str]], raw: tuple[bytes, ...]) -> str | OtlpError:
    """Canonical labels of a point, or why they are refused (decoded once per label set)."""
    key = (resource[0], raw)
    found = _LABELS.get(key)
    if found is None:
        attributes = common.attributes(_key_values(raw))  # unreadable: the request is refused
        try:
            found = canonical_labels(metrics._labels(resource[1], attributes))
        except OtlpError as error:
            found = error
        if len(_LABELS) > _CACHE_LIMIT:
            _LABELS.clear()
        _LABELS[key] = found
    return found


def _key_values(raw: tuple[bytes, ...]) -> list[Any]:
    pairs = []
    for item in raw:
        pair = KeyValue()
        try:
            pair.ParseFromString(item)
        except DecodeError as error:
            raise OtlpError(f"an attribute is not a valid KeyValue: {error}") from None
        pairs.append(pair)
    return pairs
