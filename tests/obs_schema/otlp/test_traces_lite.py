"""The lite protobuf walk of traces decodes exactly as the generated messages do.

`traces.decode` reads protobuf with mirror classes that keep attributes, events, links, the
status, the resource and the scope as raw bytes (a seen attribute is a dictionary lookup).
Every request here is decoded both ways and compared field by field, rejections included;
requests the lite walk does not mirror must fall back to the generated walk.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as service
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from obs_schema.otlp import common, traces
from obs_schema.otlp.common import OtlpError

START = 1_700_000_000_000_000_000
TRACE = bytes(range(1, 17))


def generated(body: bytes) -> traces.Decoded:
    message = common.decode(body, common.PROTOBUF, service.ExportTraceServiceRequest)
    return traces._from_protobuf(message)


def lite(body: bytes) -> traces.Decoded:
    decoded = traces._decode_lite(body)
    assert decoded is not None, "the lite walk fell back to the generated one"
    return decoded


def assert_same(body: bytes) -> traces.Decoded:
    expected = generated(body)
    for _ in range(2):  # the first pass fills the attribute cache, the second reads it
        got = lite(body)
        # repr, not ==: it tells 1 from 1.0 and True, and NaN equals NaN
        assert repr(got.spans) == repr(expected.spans)
        assert (got.rejected, got.errors) == (expected.rejected, expected.errors)
        assert repr(traces.decode(body, common.PROTOBUF).spans) == repr(expected.spans)
    return expected


def set_value(target: common_pb2.AnyValue, value: Any) -> None:
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bytes):
        target.bytes_value = value
    elif isinstance(value, list):
        target.array_value.SetInParent()
        for item in value:
            set_value(target.array_value.values.add(), item)
    elif isinstance(value, dict):
        target.kvlist_value.SetInParent()
        for key, item in value.items():
            pair = target.kvlist_value.values.add()
            pair.key = key
            set_value(pair.value, item)
    # None: the AnyValue stays empty


def add_attributes(target: Any, attributes: list[tuple[str, Any]]) -> None:
    for key, value in attributes:
        pair = target.add()
        pair.key = key
        set_value(pair.value, value)


def add_span(scope: trace_pb2.ScopeSpans, n: int, **fields: Any) -> trace_pb2.Span:
    span = scope.spans.add()
    span.trace_id, span.span_id = TRACE, n.to_bytes(8, "big")
    span.name, span.kind = f"span {n}", n % 6
    span.start_time_unix_nano, span.end_time_unix_nano = START + n, START + n + 1000
    for name, value in fields.items():
        if name == "attributes":
            add_attributes(span.attributes, value)
        else:
            setattr(span, name, value)
    return span


def request(*resources: list[tuple[str, Any]]) -> service.ExportTraceServiceRequest:
    out = service.ExportTraceServiceRequest()
    for attributes in resources:
        add_attributes(out.resource_spans.add().resource.attributes, attributes)
    return out


DEEP: Any = "too deep"
for _ in range(common.MAX_DEPTH + 3):
    DEEP = [DEEP]

UNUSUAL = [
    ("kv", {"a": 1, "b": [True, None, 2.5], "c": {"d": b"\x00\xff"}}),
    ("array", [1, "two", 3.0, [4, [5]], {"six": 6}]),
    ("bytes", b"\x00\x01binary\xff"),
    ("double", 0.1),
    ("nan", float("nan")),
    ("inf", float("-inf")),
    ("int64.max", 2**63 - 1),
    ("int64.min", -(2**63)),
    ("bool", False),
    ("empty", None),
    ("empty.string", ""),
    ("long", "x" * 20_000),
    ("long.bytes", b"y" * 13_000),  # base64 of it is over the 16 KiB cut
    ("deep", DEEP),
    ("dup", "first"),
    ("dup", "second"),
    ("unicode", "żółć ✓ \U0001f600"),
]


def test_ordinary_spans_decode_alike() -> None:
    body = request([("service.name", "checkout"), ("host.name", "web-1")])
    scope = body.resource_spans[0].scope_spans.add()
    scope.scope.name, scope.scope.version = "instrumentation", "1.0"
    for n in range(1, 30):
        attributes = [("http.route", "/pay/{id}"), ("http.response.status_code", 200 + n % 3)]
        span = add_span(scope, n, attributes=attributes)
        if n > 1:
            span.parent_span_id = (1).to_bytes(8, "big")
        span.status.code = n % 3
        if n % 5 == 0:
            span.status.message = f"failed {n}"
    decoded = assert_same(body.SerializeToString())
    assert len(decoded.spans) == 29 and decoded.spans[3].parent_span_id == "0000000000000001"


def test_unusual_values_events_and_links_decode_alike() -> None:
    body = request([("service.name", "svc"), ("resource.kv", {"a": [1]})])
    scope = body.resource_spans[0].scope_spans.add()
    span = add_span(scope, 1, attributes=UNUSUAL)
    event = span.events.add()
    event.name, event.time_unix_nano = "exception", START + 5
    add_attributes(event.attributes, UNUSUAL[:4])
    link = span.links.add()
    link.trace_id, link.span_id = TRACE, b"\x07" * 8
    add_attributes(link.attributes, [("link.kind", "follows")])
    span.links.add()  # an empty link: ids absent
    decoded = assert_same(body.SerializeToString())
    attributes = decoded.spans[0].attributes
    assert attributes["dup"] == "second" and attributes["empty"] is None
    assert attributes["bytes"] == base64.b64encode(b"\x00\x01binary\xff").decode()
    assert len(attributes["long"]) == len(attributes["long.bytes"]) == traces.MAX_STRING_CHARS
    assert decoded.spans[0].links[1] == {"trace_id": "", "span_id": "", "attributes": {}}


def test_bad_spans_are_rejected_as_the_generated_walk_rejects_them() -> None:
    body = request([("service.name", "svc")])
    scope = body.resource_spans[0].scope_spans.add()
    add_span(scope, 1, trace_id=bytes(16))
    add_span(scope, 2, trace_id=b"\x01" * 15)
    add_span(scope, 3, span_id=bytes(8))
    add_span(scope, 4, span_id=b"")
    add_span(scope, 5, parent_span_id=b"\x01" * 7)
    add_span(scope, 6, parent_span_id=bytes(8))  # all zero: no parent, not a rejection
    add_span(scope, 7, start_time_unix_nano=0)
    add_span(scope, 8, end_time_unix_nano=START)
    add_span(scope, 9, end_time_unix_nano=2**63)
    add_span(body.resource_spans[0].scope_spans.add(), 10, trace_id=b"")
    raw = body.SerializeToString()
    assert traces._decode_lite(raw) is None  # requests with a bad span take the generated walk
    decoded = traces.decode(raw, common.PROTOBUF)
    assert repr(decoded.spans) == repr(generated(raw).spans)
    assert (decoded.rejected, decoded.errors) == (generated(raw).rejected, generated(raw).errors)
    assert [s.span_id for s in decoded.spans] == ["0000000000000006"]
    assert decoded.rejected == 9
    assert decoded.errors[0] == (
        "resourceSpans[0].scopeSpans[0].spans[0]: traceId must be 16 bytes and not all zero"
    )


def test_resources_and_scopes_without_content_decode_alike() -> None:
    body = service.ExportTraceServiceRequest()
    add_span(body.resource_spans.add().scope_spans.add(), 1)  # no resource, no scope
    add_span(request([("service.name", " ")]).resource_spans[0].scope_spans.add(), 2)
    second = body.resource_spans.add()
    add_attributes(second.resource.attributes, [("service.name", "s" * 300)])
    second.scope_spans.add().scope.name = "empty scope"
    add_span(second.scope_spans.add(), 3)
    decoded = assert_same(body.SerializeToString())
    assert [s.service for s in decoded.spans] == [traces.UNKNOWN_SERVICE, "s" * 256]


def _field(number: int, payload: bytes) -> bytes:
    return common._varint(number << 3 | 2) + common._varint(len(payload)) + payload


def _wrap(span: bytes) -> bytes:
    """A request of one resource, one scope and this span encoding."""
    return _field(1, _field(2, _field(2, span)))


def test_a_status_sent_twice_is_merged_as_protobuf_merges() -> None:
    first = trace_pb2.Span(
        trace_id=TRACE, span_id=b"\x01" * 8, start_time_unix_nano=START,
        end_time_unix_nano=START + 1, status=trace_pb2.Status(code=2),
    )  # fmt: skip
    second = trace_pb2.Span(status=trace_pb2.Status(message="merged"))
    body = _wrap(first.SerializeToString() + second.SerializeToString())
    decoded = assert_same(body)
    assert (decoded.spans[0].status_code, decoded.spans[0].status_message) == (2, "merged")


def test_an_unreadable_attribute_is_the_generated_walks_error() -> None:
    invalid_utf8 = _field(1, b"k") + _field(2, _field(1, b"\xff\xfe"))
    span = trace_pb2.Span(
        trace_id=TRACE, span_id=b"\x01" * 8, start_time_unix_nano=START,
        end_time_unix_nano=START + 1,
    ).SerializeToString()  # fmt: skip
    body = _wrap(span + _field(9, invalid_utf8))
    assert traces._decode_lite(body) is None
    with pytest.raises(OtlpError) as from_generated:
        common.decode(body, common.PROTOBUF, service.ExportTraceServiceRequest)
    with pytest.raises(OtlpError) as from_decode:
        traces.decode(body, common.PROTOBUF)
    assert str(from_decode.value) == str(from_generated.value)


def test_an_unreadable_attribute_of_a_bad_span_still_refuses_the_request() -> None:
    invalid_utf8 = _field(1, b"k") + _field(2, _field(1, b"\xff\xfe"))
    bad_span = trace_pb2.Span(trace_id=bytes(16), span_id=b"\x01" * 8).SerializeToString()
    body = _wrap(bad_span + _field(9, invalid_utf8))
    with pytest.raises(OtlpError, match="not a valid protobuf"):
        traces.decode(body, common.PROTOBUF)


@pytest.mark.parametrize("field", ["attributes", "events", "links"])
def test_over_the_limits_the_generated_walk_decides(field: str) -> None:
    body = request([("service.name", "svc")])
    span = add_span(body.resource_spans[0].scope_spans.add(), 1)
    for n in range(traces.MAX_ATTRIBUTES + 2):
        item = getattr(span, field).add()
        if field == "attributes":
            item.key, item.value.int_value = f"k{n}", n
        elif field == "events":
            item.name = f"e{n}"
        else:
            item.span_id = n.to_bytes(8, "big")
    raw = body.SerializeToString()
    assert traces._decode_lite(raw) is None
    decoded = traces.decode(raw, common.PROTOBUF)
    assert decoded.spans == generated(raw).spans
    assert len(getattr(decoded.spans[0], field)) == traces.MAX_ATTRIBUTES


def test_nested_values_are_not_shared_between_spans() -> None:
    body = request([("service.name", "svc")])
    scope = body.resource_spans[0].scope_spans.add()
    for n in (1, 2):
        add_span(scope, n, attributes=[("tags", ["a", "b"]), ("route", "/x")])
    spans = traces.decode(body.SerializeToString(), common.PROTOBUF).spans
    spans[0].attributes["tags"].append("mutated")
    assert spans[1].attributes["tags"] == ["a", "b"]


def _json_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}  # int64 as a decimal string, as the spec writes it
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode()}
    if isinstance(value, list):
        return {"arrayValue": {"values": [_json_value(v) for v in value]}}
    if isinstance(value, dict):
        pairs = [{"key": k, "value": _json_value(v)} for k, v in value.items()]
        return {"kvlistValue": {"values": pairs}}
    return {}


SERVICE_JSON = {"key": "service.name", "value": {"stringValue": "svc"}}


def test_protobuf_and_json_of_one_export_decode_to_the_same_spans() -> None:
    values = [(k, v) for k, v in UNUSUAL if k not in ("nan", "inf", "deep")]
    values.append(("precise", 2**53 + 1))  # a JSON double would round it; int64 strings do not
    body = request([("service.name", "svc")])
    add_span(body.resource_spans[0].scope_spans.add(), 1, attributes=values)
    as_json = {
        "resourceSpans": [
            {
                "resource": {"attributes": [SERVICE_JSON]},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": TRACE.hex(),
                                "spanId": (1).to_bytes(8, "big").hex(),
                                "name": "span 1",
                                "kind": 1,
                                "startTimeUnixNano": str(START + 1),
                                "endTimeUnixNano": str(START + 1001),
                                "attributes": [
                                    {"key": k, "value": _json_value(v)} for k, v in values
                                ],
                            }
                        ]
                    }
                ],
            }
        ]
    }  # fmt: skip
    from_protobuf = traces.decode(body.SerializeToString(), common.PROTOBUF).spans
    from_json = traces.decode(json.dumps(as_json).encode(), common.JSON).spans
    assert repr(from_protobuf) == repr(from_json)
    assert from_protobuf[0].attributes["precise"] == 2**53 + 1
    assert from_protobuf[0].attributes["kv"] == {"a": 1, "b": [True, None, 2.5], "c": {"d": "AP8="}}


def test_the_lite_walk_is_left_while_attributes_do_not_repeat() -> None:
    usage = traces._Usage()
    assert usage.worthwhile()
    usage.record(600, 600)  # not one attribute seen before
    choices = [usage.worthwhile() for _ in range(2 * traces._Usage.PROBE_EVERY)]
    assert choices.count(True) == 2  # only the probes
    usage.record(600, 0)  # a probe finds them repeating again
    assert usage.worthwhile()


def test_walks_count_the_attributes_they_had_to_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    usage = traces._Usage()
    monkeypatch.setattr(traces, "_USAGE", usage)
    body = request([("service.name", "svc")])
    scope = body.resource_spans[0].scope_spans.add()
    for n in range(1, 11):
        add_span(scope, n, attributes=[("unique.id", f"{id(usage)}-{n}"), ("route", "/same")])
    lite(body.SerializeToString())
    assert usage.hit_rate == pytest.approx((1.0 + 9 / 20) / 2)  # "/same" parsed once: 11 of 20
    lite(body.SerializeToString())  # every attribute seen now
    assert usage.hit_rate == pytest.approx(((1.0 + 9 / 20) / 2 + 1.0) / 2)
