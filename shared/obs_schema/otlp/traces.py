"""OTLP/HTTP traces: `ExportTraceServiceRequest` (protobuf or JSON) into plain spans.

Protobuf is read by a lite walk over mirror messages that keep attributes, events, links and
the status as raw bytes (see "lite walk" below), else by walking the generated messages (no
`MessageToDict`: it builds a second dict tree and base64s every id); JSON follows the OTLP
JSON mapping (hex ids, integer enums, int64 as strings or numbers). Both produce the same
`TraceSpan`s. A span that cannot be stored (bad ids, no start time, ending before it starts)
is rejected on its own and counted for `partialSuccess`; only a body that is not an export
request at all is an `OtlpError`.

Limits follow the OpenTelemetry SDK defaults: 128 attributes, events and links per span;
attribute strings are cut at 16 KiB (a collector truncates too, rather than dropping a span).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from obs_schema.otlp import common
from obs_schema.otlp.common import OtlpError

__all__ = ["Decoded", "TraceSpan", "answer", "decode"]

MAX_ATTRIBUTES = 128
MAX_EVENTS = 128
MAX_LINKS = 128
MAX_STRING_CHARS = 16 * 1024
MAX_NAME_CHARS = 1024
UNKNOWN_SERVICE = "unknown_service"
_KINDS = {"UNSPECIFIED": 0, "INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}
_CODES = {"UNSET": 0, "OK": 1, "ERROR": 2}
_SCALARS = frozenset({"bool_value", "int_value", "double_value"})


@dataclass(slots=True)
class TraceSpan:
    """One span, ids as lower-case hex ("" when absent), times in epoch nanoseconds."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int  # OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer
    service: str
    start_ns: int
    end_ns: int
    status_code: int = 0  # 0 unset, 1 ok, 2 error
    status_message: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    resource: dict[str, Any] = field(default_factory=dict)  # shared by a resource's spans
    scope: str = ""


@dataclass
class Decoded(common.Rejections):
    spans: list[TraceSpan] = field(default_factory=list)


def decode(body: bytes, kind: str) -> Decoded:
    """The spans of one export request in encoding `kind` (`common.PROTOBUF`/`common.JSON`)."""
    if kind == common.PROTOBUF and _USAGE.worthwhile():
        fast = _decode_lite(body)
        if fast is not None:
            return fast
    message = common.decode(body, kind, ExportTraceServiceRequest)
    if isinstance(message, dict):
        return _from_json(message)
    return _from_protobuf(message)


def answer(kind: str, decoded: Decoded) -> bytes:
    """The `ExportTraceServiceResponse` body: `{}` or a `partialSuccess` naming rejections."""
    return common.success(
        kind, ExportTraceServiceResponse, "rejected_spans", decoded.rejected, decoded.error_message
    )


# --- protobuf -------------------------------------------------------------------------------
def _from_protobuf(request: Any) -> Decoded:
    out = Decoded()
    for r, resource_spans in enumerate(request.resource_spans):
        resource = _bounded(common.attributes(resource_spans.resource.attributes))
        service = _service(resource)
        for s, scope_spans in enumerate(resource_spans.scope_spans):
            scope = scope_spans.scope.name
            for i, span in enumerate(scope_spans.spans):
                where = f"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]"
                trace_id, span_id = span.trace_id, span.span_id
                if len(trace_id) != 16 or not any(trace_id):
                    out.reject(where, "traceId must be 16 bytes and not all zero")
                    continue
                if len(span_id) != 8 or not any(span_id):
                    out.reject(where, "spanId must be 8 bytes and not all zero")
                    continue
                parent = span.parent_span_id
                if parent and len(parent) != 8:
                    out.reject(where, "parentSpanId must be 8 bytes")
                    continue
                start, end = span.start_time_unix_nano, span.end_time_unix_nano
                if reason := _bad_times(start, end):
                    out.reject(where, reason)
                    continue
                attrs = span.attributes
                out.spans.append(
                    TraceSpan(
                        trace_id.hex(),
                        span_id.hex(),
                        common.hex_id(parent),
                        span.name[:MAX_NAME_CHARS],
                        span.kind,
                        service,
                        start,
                        end,
                        span.status.code,
                        span.status.message[:MAX_STRING_CHARS],
                        _attributes_pb(attrs) if attrs else {},
                        [_event_pb(e) for e in _first(span.events, MAX_EVENTS)],
                        [_link_pb(link) for link in _first(span.links, MAX_LINKS)],
                        resource,
                        scope,
                    )
                )
    return out


def _attributes_pb(pairs: Any) -> dict[str, Any]:
    # The hot loop of ingest: scalars are read inline, only nested values go through common.
    out: dict[str, Any] = {}
    for pair in _first(pairs, MAX_ATTRIBUTES):
        value = pair.value
        kind = value.WhichOneof("value")
        if kind == "string_value":
            text = value.string_value
            out[pair.key] = text if len(text) <= MAX_STRING_CHARS else text[:MAX_STRING_CHARS]
        elif kind in _SCALARS:
            out[pair.key] = getattr(value, kind)
        else:
            out[pair.key] = _cut(common.any_value(value))
    return out


def _first(items: Any, limit: int) -> Any:
    # Slicing a repeated field copies it into a list; most spans are under the limit.
    return items if len(items) <= limit else items[:limit]


def _event_pb(event: Any) -> dict[str, Any]:
    return {
        "name": event.name[:MAX_NAME_CHARS],
        "time_unix_nano": event.time_unix_nano,
        "attributes": _attributes_pb(event.attributes),
    }


def _link_pb(link: Any) -> dict[str, Any]:
    return {
        "trace_id": common.hex_id(link.trace_id),
        "span_id": common.hex_id(link.span_id),
        "attributes": _attributes_pb(link.attributes),
    }


# --- protobuf, lite walk --------------------------------------------------------------------
# Walking the generated messages costs a Python wrapper per span, attribute, value and status
# (~10 µs a span of 6 attributes). The lite walk parses the request with mirror classes made
# from the same descriptors, except that every message below `Span` (and the resource and
# scope) is declared `repeated bytes`: an attribute arrives as its raw `KeyValue` encoding,
# which is hashable, so one seen before (`http.method: GET`, `db.system: postgresql`) is a
# dictionary lookup. Anything read from those bytes is parsed with the real class, so what is
# accepted, refused and produced is the generated walk's; anything this walk does not mirror
# (an unreadable nested message, more than the limits) returns None and the request takes the
# generated walk whole, which words the error. Repeated, not singular, bytes: a singular
# message sent twice is merged by protobuf, and parsing the occurrences joined merges alike.
_LITE_PACKAGE = "obs_schema_otlp_traces_lite"
_MIRRORED = {  # message -> name of its mirror
    ExportTraceServiceRequest.DESCRIPTOR.full_name: "Request",
    ResourceSpans.DESCRIPTOR.full_name: "ResourceSpans",
    ScopeSpans.DESCRIPTOR.full_name: "ScopeSpans",
    Span.DESCRIPTOR.full_name: "Span",
}
# The fields kept as raw bytes, and the class that reads them; a field added to the protocol
# that is not here switches the lite walk off (its contents would go unchecked).
_RAW = {
    ("ResourceSpans", "resource"): Resource,
    ("ScopeSpans", "scope"): InstrumentationScope,
    ("Span", "attributes"): KeyValue,
    ("Span", "events"): Span.Event,
    ("Span", "links"): Span.Link,
    ("Span", "status"): Status,
}


def _lite_request_class() -> Any:
    F = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(
        name=f"{_LITE_PACKAGE}.proto", package=_LITE_PACKAGE, syntax="proto3"
    )
    raw: set[tuple[str, str]] = set()
    for descriptor in (ExportTraceServiceRequest, ResourceSpans, ScopeSpans, Span):
        message = file.message_type.add()
        descriptor.DESCRIPTOR.CopyToProto(message)
        message.name = _MIRRORED[descriptor.DESCRIPTOR.full_name]
        del message.nested_type[:], message.enum_type[:]
        for field_proto in message.field:
            target = field_proto.type_name.lstrip(".")
            if field_proto.type == F.TYPE_ENUM:  # open enums read as the int32 they are
                field_proto.type = F.TYPE_INT32
                field_proto.ClearField("type_name")
            elif field_proto.type == F.TYPE_MESSAGE and target in _MIRRORED:
                field_proto.type_name = f".{_LITE_PACKAGE}.{_MIRRORED[target]}"
            elif field_proto.type == F.TYPE_MESSAGE:
                field_proto.type, field_proto.label = F.TYPE_BYTES, F.LABEL_REPEATED
                field_proto.ClearField("type_name")
                raw.add((message.name, field_proto.name))
    if raw != set(_RAW):
        return None
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_LITE_PACKAGE}.Request"))


_LITE_REQUEST = _lite_request_class()
_ZERO_TRACE, _ZERO_SPAN = bytes(16), bytes(8)
_CACHE_LIMIT = 10_000  # raw attributes remembered: at most ~5 MB of a 128 MB isolate
_CACHED_BYTES = 256  # longer attributes (statements, stack traces) are rarely repeated
_PAIRS: dict[bytes, tuple[str, Any]] = {}
_KEY_VALUE = KeyValue.FromString
_UNSET = (0, "")
_STATUSES: dict[bytes, tuple[int, str]] = {}
_END_LIMIT = 2**63
_IMMUTABLE = (str, int, float, type(None))  # bool is an int; lists and dicts are not shared


class _Usage:
    """Whether the lite walk pays: a remembered attribute costs ~0.1 µs, one parsed from its
    bytes ~2 µs, the generated walk ~1 µs. Senders whose attributes rarely repeat (ids in
    every value) get the generated walk, with every 8th request read lite to notice a change.
    Either walk decodes alike; this only chooses the cheaper."""

    PROBE_EVERY = 8
    MIN_HIT_RATE = 0.6

    def __init__(self) -> None:
        self.hit_rate = 1.0  # moving average over requests
        self.requests = 0
        self.misses = 0  # attributes parsed, counted by `_pair` during one walk

    def worthwhile(self) -> bool:
        self.requests += 1
        return self.hit_rate >= self.MIN_HIT_RATE or self.requests % self.PROBE_EVERY == 0

    def record(self, attributes: int, misses: int) -> None:
        if attributes:
            self.hit_rate = (self.hit_rate + 1.0 - misses / attributes) / 2


_USAGE = _Usage()


class _Unusual(Exception):
    """Something the lite walk does not mirror: the generated walk takes the request."""


def _decode_lite(body: bytes) -> Decoded | None:
    if _LITE_REQUEST is None:
        return None
    request = _LITE_REQUEST()
    try:
        request.ParseFromString(body)
        return _walk_lite(request)
    except (DecodeError, ValueError, _Unusual):
        return None  # the generated walk decides, and words any error


def _walk_lite(request: Any) -> Decoded:
    out = Decoded()
    _USAGE.misses, attributes = 0, 0
    for resource_spans in request.resource_spans:
        resource_message = _parse(Resource, resource_spans.resource)
        resource = _bounded(common.attributes(resource_message.attributes))
        service = _service(resource)
        for scope_spans in resource_spans.scope_spans:
            scope = _parse(InstrumentationScope, scope_spans.scope).name
            attributes += _spans_lite(out, scope_spans.spans, service, resource, scope)
    _USAGE.record(attributes, _USAGE.misses)
    return out


def _spans_lite(
    out: Decoded, spans: Any, service: str, resource: dict[str, Any], scope: str
) -> int:
    """Append the spans of one scope; answers how many attributes they had."""
    append, statuses, pairs = out.spans.append, _STATUSES, _PAIRS.__getitem__
    seen = 0
    for span in spans:
        trace_id, span_id, parent = span.trace_id, span.span_id, span.parent_span_id
        start, end = span.start_time_unix_nano, span.end_time_unix_nano
        if (len(trace_id) != 16 or trace_id == _ZERO_TRACE or len(span_id) != 8
                or span_id == _ZERO_SPAN or (parent and len(parent) != 8)
                or start <= 0 or end < start or end >= _END_LIMIT):  # fmt: skip
            # The generated walk rejects it, after protobuf has checked its attributes, events
            # and links (an unreadable one makes the whole request a 400): rare, so it decides.
            raise _Unusual
        status = span.status
        code, message = (
            (statuses.get(raw := b"".join(status)) or _status(raw)) if status else _UNSET
        )
        attributes, events, links = span.attributes, span.events, span.links
        if attributes:
            if len(attributes) > MAX_ATTRIBUTES:
                raise _Unusual
            seen += len(attributes)
            try:
                attributes = dict(map(pairs, attributes))
            except KeyError:
                attributes = dict(map(_pair, attributes))
        else:
            attributes = {}
        append(
            TraceSpan(
                trace_id.hex(),
                span_id.hex(),
                parent.hex() if parent and parent != _ZERO_SPAN else "",
                span.name[:MAX_NAME_CHARS],
                span.kind,
                service,
                start,
                end,
                code,
                message,
                attributes,
                [_event_pb(_parse(Span.Event, e)) for e in _within(events, MAX_EVENTS)]
                if events
                else [],
                [_link_pb(_parse(Span.Link, k)) for k in _within(links, MAX_LINKS)]
                if links
                else [],
                resource,
                scope,
            )
        )
    return seen


def _pair(raw: bytes) -> tuple[str, Any]:
    """One raw attribute as (key, value): `_attributes_pb`'s reading of it, remembered."""
    found = _PAIRS.get(raw)
    if found is not None:
        return found
    _USAGE.misses += 1
    pair = _KEY_VALUE(raw)  # unreadable: DecodeError, and the generated walk words it
    value = pair.value
    kind = value.WhichOneof("value")
    if kind == "string_value":
        decoded = value.string_value
        if len(decoded) > MAX_STRING_CHARS:
            decoded = decoded[:MAX_STRING_CHARS]
    elif kind in _SCALARS:
        decoded = getattr(value, kind)
    else:
        decoded = _cut(common.any_value(value))
    found = (pair.key, decoded)
    if len(raw) <= _CACHED_BYTES and isinstance(decoded, _IMMUTABLE):
        if len(_PAIRS) >= _CACHE_LIMIT:
            _PAIRS.clear()
        _PAIRS[raw] = found
    return found


def _status(raw: bytes) -> tuple[int, str]:
    status = _parse(Status, raw)
    found = (status.code, status.message[:MAX_STRING_CHARS])
    if len(raw) <= _CACHED_BYTES:
        if len(_STATUSES) >= _CACHE_LIMIT:
            _STATUSES.clear()
        _STATUSES[raw] = found
    return found


def _within(raw: Any, limit: int) -> Any:
    # Entries past a limit are never read, so never checked; the generated walk checks them.
    if len(raw) > limit:
        raise _Unusual
    return raw


def _parse(kind: Any, raw: Any) -> Any:
    """A real message from raw occurrences (joined: protobuf merges repeated singular ones)."""
    message = kind()
    message.ParseFromString(raw if isinstance(raw, bytes) else b"".join(raw))
    return message


# --- JSON -----------------------------------------------------------------------------------
def _from_json(request: dict[str, Any]) -> Decoded:
    out = Decoded()
    for r, resource_spans in enumerate(_objects(request.get("resourceSpans"), "resourceSpans")):
        resource_field = resource_spans.get("resource") or {}
        if not isinstance(resource_field, dict):
            raise OtlpError(f"resourceSpans[{r}].resource must be an object")
        resource = _bounded(common.attributes_json(resource_field.get("attributes") or []))
        service = _service(resource)
        scopes = _objects(resource_spans.get("scopeSpans"), f"resourceSpans[{r}].scopeSpans")
        for s, scope_spans in enumerate(scopes):
            scope_field = scope_spans.get("scope") or {}
            scope = scope_field.get("name", "") if isinstance(scope_field, dict) else ""
            where_scope = f"resourceSpans[{r}].scopeSpans[{s}]"
            for i, span in enumerate(_objects(scope_spans.get("spans"), f"{where_scope}.spans")):
                where = f"{where_scope}.spans[{i}]"
                try:
                    out.spans.append(_span_json(span, service, resource, str(scope)))
                except OtlpError as error:
                    out.reject(where, str(error))
    return out


def _span_json(
    span: dict[str, Any], service: str, resource: dict[str, Any], scope: str
) -> TraceSpan:
    trace_id = common.hex_id_json(span.get("traceId"), 16, "traceId")
    span_id = common.hex_id_json(span.get("spanId"), 8, "spanId")
    if not trace_id or not span_id:
        raise OtlpError("traceId and spanId are required and must not be all zero")
    start = common.int64(span.get("startTimeUnixNano", 0))
    end = common.int64(span.get("endTimeUnixNano", 0))
    if reason := _bad_times(start, end):
        raise OtlpError(reason)
    status = span.get("status") or {}
    if not isinstance(status, dict):
        raise OtlpError("status must be an object")
    name = span.get("name", "")
    message = status.get("message", "")
    if not isinstance(name, str) or not isinstance(message, str):
        raise OtlpError("name and status.message must be strings")
    return TraceSpan(
        trace_id,
        span_id,
        common.hex_id_json(span.get("parentSpanId"), 8, "parentSpanId"),
        name[:MAX_NAME_CHARS],
        _enum(span.get("kind", 0), _KINDS, "SPAN_KIND_", "kind"),
        service,
        start,
        end,
        _enum(status.get("code", 0), _CODES, "STATUS_CODE_", "status.code"),
        message[:MAX_STRING_CHARS],
        _attributes_json(span.get("attributes")),
        [_event_json(e) for e in _objects(span.get("events"), "events")[:MAX_EVENTS]],
        [_link_json(link) for link in _objects(span.get("links"), "links")[:MAX_LINKS]],
        resource,
        scope,
    )


def _event_json(event: dict[str, Any]) -> dict[str, Any]:
    name = event.get("name", "")
    return {
        "name": name[:MAX_NAME_CHARS] if isinstance(name, str) else "",
        "time_unix_nano": common.int64(event.get("timeUnixNano", 0)),
        "attributes": _attributes_json(event.get("attributes")),
    }


def _link_json(link: dict[str, Any]) -> dict[str, Any]:
    return {
        "trace_id": common.hex_id_json(link.get("traceId"), 16, "links.traceId"),
        "span_id": common.hex_id_json(link.get("spanId"), 8, "links.spanId"),
        "attributes": _attributes_json(link.get("attributes")),
    }


def _attributes_json(pairs: Any) -> dict[str, Any]:
    if pairs is None:
        return {}
    if not isinstance(pairs, list):
        raise OtlpError("attributes must be a list of key/value objects")
    return _bounded(common.attributes_json(pairs[:MAX_ATTRIBUTES]))


def _enum(value: Any, names: dict[str, int], prefix: str, field_name: str) -> int:
    # The spec requires integers; names are accepted too (lenient on input is harmless).
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
        return value
    if isinstance(value, str):
        found = names.get(value.upper().removeprefix(prefix))
        if found is not None:
            return found
    raise OtlpError(f"{field_name} must be an integer 0-{len(names) - 1}")


def _objects(value: Any, where: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise OtlpError(f"{where} must be a list of objects")
    return value


# --- shared ---------------------------------------------------------------------------------
def _service(resource: dict[str, Any]) -> str:
    name = resource.get("service.name")
    return name[:256] if isinstance(name, str) and name.strip() else UNKNOWN_SERVICE


def _bad_times(start: int, end: int) -> str | None:
    if start <= 0:
        return "startTimeUnixNano is required"
    if end < start:
        return "endTimeUnixNano is before startTimeUnixNano"
    if end >= 2**63:
        return "endTimeUnixNano is out of range"
    return None


def _bounded(attributes: dict[str, Any]) -> dict[str, Any]:
    """Cut over-long strings; the common case (nothing to cut) costs one pass, no copy."""
    for value in attributes.values():
        if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
            return {k: _cut(v) for k, v in attributes.items()}
    return attributes


def _cut(value: Any) -> Any:
    return value[:MAX_STRING_CHARS] if isinstance(value, str) else value
