"""OTLP traces decode alike from protobuf and spec JSON; bad spans are rejected one by one."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as service
from opentelemetry.proto.trace.v1 import trace_pb2

from obs_schema.otlp import common, traces
from obs_schema.otlp.common import OtlpError
from obs_schema.otlp.traces import TraceSpan

TRACE = "5b8efff798038103d269b633813fc60c"
START = 1544712660000000000

# The official example of the OTLP spec, plus a status, an event and a link.
SPEC_JSON: dict[str, Any] = {
    "resourceSpans": [
        {
            "resource": {
                "attributes": [{"key": "service.name", "value": {"stringValue": "my.service"}}]
            },
            "scopeSpans": [
                {
                    "scope": {"name": "my.library", "version": "1.0.0"},
                    "spans": [
                        {
                            "traceId": TRACE.upper(),
                            "spanId": "EEE19B7EC3C1B174",
                            "parentSpanId": "EEE19B7EC3C1B173",
                            "name": "GET /api/users",
                            "kind": 2,
                            "startTimeUnixNano": str(START),
                            "endTimeUnixNano": str(START + 10**9),
                            "attributes": [
                                {"key": "http.response.status_code", "value": {"intValue": "500"}},
                                {"key": "http.route", "value": {"stringValue": "/api/users"}},
                            ],
                            "events": [
                                {
                                    "timeUnixNano": str(START + 5 * 10**8),
                                    "name": "exception",
                                    "attributes": [
                                        {
                                            "key": "exception.type",
                                            "value": {"stringValue": "ValueError"},
                                        }
                                    ],
                                }
                            ],
                            "links": [{"traceId": "A" * 32, "spanId": "B" * 16}],
                            "status": {"code": 2, "message": "boom"},
                        }
                    ],
                }
            ],
        }
    ]
}

EXPECTED = TraceSpan(
    trace_id=TRACE,
    span_id="eee19b7ec3c1b174",
    parent_span_id="eee19b7ec3c1b173",
    name="GET /api/users",
    kind=2,
    service="my.service",
    start_ns=START,
    end_ns=START + 10**9,
    status_code=2,
    status_message="boom",
    attributes={"http.response.status_code": 500, "http.route": "/api/users"},
    events=[
        {
            "name": "exception",
            "time_unix_nano": START + 5 * 10**8,
            "attributes": {"exception.type": "ValueError"},
        }
    ],
    links=[{"trace_id": "a" * 32, "span_id": "b" * 16, "attributes": {}}],
    resource={"service.name": "my.service"},
    scope="my.library",
)


def spec_protobuf() -> bytes:
    request = service.ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    attribute = resource_spans.resource.attributes.add()
    attribute.key, attribute.value.string_value = "service.name", "my.service"
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name, scope_spans.scope.version = "my.library", "1.0.0"
    span = scope_spans.spans.add()
    span.trace_id, span.span_id = bytes.fromhex(TRACE), bytes.fromhex("eee19b7ec3c1b174")
    span.parent_span_id = bytes.fromhex("eee19b7ec3c1b173")
    span.name, span.kind = "GET /api/users", trace_pb2.Span.SPAN_KIND_SERVER
    span.start_time_unix_nano, span.end_time_unix_nano = START, START + 10**9
    code = span.attributes.add()
    code.key, code.value.int_value = "http.response.status_code", 500
    route = span.attributes.add()
    route.key, route.value.string_value = "http.route", "/api/users"
    event = span.events.add()
    event.time_unix_nano, event.name = START + 5 * 10**8, "exception"
    kind = event.attributes.add()
    kind.key, kind.value.string_value = "exception.type", "ValueError"
    link = span.links.add()
    link.trace_id, link.span_id = b"\xaa" * 16, b"\xbb" * 8
    span.status.code, span.status.message = trace_pb2.Status.STATUS_CODE_ERROR, "boom"
    return request.SerializeToString()


def test_protobuf_and_spec_json_decode_to_the_same_span() -> None:
    from_json = traces.decode(json.dumps(SPEC_JSON).encode(), common.JSON)
    from_protobuf = traces.decode(spec_protobuf(), common.PROTOBUF)
    assert from_json.spans == [EXPECTED]
    assert from_protobuf.spans == [EXPECTED]
    assert (from_json.rejected, from_protobuf.rejected) == (0, 0)


def with_span(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(SPEC_JSON)
    span = body["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    for key, value in changes.items():
        if value is None:
            span.pop(key, None)
        else:
            span[key] = value
    return body


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"traceId": "0" * 32}, "traceId and spanId are required"),
        ({"spanId": None}, "traceId and spanId are required"),
        ({"traceId": "W47/95gDgQPSabYzgT/GDA=="}, "traceId must be 32 hex"),
        ({"startTimeUnixNano": None}, "startTimeUnixNano is required"),
        ({"endTimeUnixNano": str(START - 1)}, "before startTimeUnixNano"),
        ({"kind": 9}, "kind must be an integer 0-5"),
        ({"attributes": {"http.route": "/x"}}, "attributes must be a list"),
        ({"startTimeUnixNano": "soon"}, "expected an integer"),
    ],
)
def test_a_bad_span_is_rejected_with_its_place_and_reason(
    changes: dict[str, Any], reason: str
) -> None:
    body = with_span(**changes)
    good = copy.deepcopy(body["resourceSpans"][0]["scopeSpans"][0]["spans"][0])
    good.update(SPEC_JSON["resourceSpans"][0]["scopeSpans"][0]["spans"][0])
    body["resourceSpans"][0]["scopeSpans"][0]["spans"].append(good)
    decoded = traces.decode(json.dumps(body).encode(), common.JSON)
    assert [s.span_id for s in decoded.spans] == ["eee19b7ec3c1b174"]
    assert decoded.rejected == 1
    assert decoded.errors[0].startswith("resourceSpans[0].scopeSpans[0].spans[0]: ")
    assert reason in decoded.errors[0]


def test_enum_names_are_accepted_leniently() -> None:
    body = with_span(kind="SPAN_KIND_CLIENT", status={"code": "STATUS_CODE_OK"})
    span = traces.decode(json.dumps(body).encode(), common.JSON).spans[0]
    assert (span.kind, span.status_code) == (3, 1)


def test_protobuf_spans_with_bad_ids_or_times_are_rejected() -> None:
    request = service.ExportTraceServiceRequest.FromString(spec_protobuf())
    spans = request.resource_spans[0].scope_spans[0].spans
    spans.add().CopyFrom(spans[0])
    spans[1].trace_id = b"\x00" * 16
    spans.add().CopyFrom(spans[0])
    spans[2].end_time_unix_nano = START - 1
    spans.add().CopyFrom(spans[0])
    spans[3].span_id = b"\x01\x02"
    decoded = traces.decode(request.SerializeToString(), common.PROTOBUF)
    assert len(decoded.spans) == 1 and decoded.rejected == 3
    assert "traceId must be 16 bytes" in decoded.error_message


def test_missing_service_name_and_long_strings_are_bounded() -> None:
    body = with_span(attributes=[{"key": "db.statement", "value": {"stringValue": "x" * 20_000}}])
    body["resourceSpans"][0]["resource"] = {}
    span = traces.decode(json.dumps(body).encode(), common.JSON).spans[0]
    assert span.service == traces.UNKNOWN_SERVICE
    assert len(span.attributes["db.statement"]) == traces.MAX_STRING_CHARS


@pytest.mark.parametrize(
    "body",
    [b"[]", b"{", b'{"resourceSpans": {"a": 1}}', b'{"resourceSpans": [{"scopeSpans": 3}]}'],
)
def test_bodies_that_are_not_export_requests_are_otlp_errors(body: bytes) -> None:
    with pytest.raises(OtlpError):
        traces.decode(body, common.JSON)


def test_empty_requests_decode_to_nothing() -> None:
    assert traces.decode(b"{}", common.JSON).spans == []
    assert traces.decode(b"", common.PROTOBUF).spans == []


def test_answers_carry_partial_success_only_when_spans_were_rejected() -> None:
    decoded = traces.Decoded()
    assert traces.answer(common.JSON, decoded) == b"{}"
    for index in range(7):
        decoded.reject(f"spans[{index}]", "bad")
    assert json.loads(traces.answer(common.JSON, decoded)) == {
        "partialSuccess": {
            "rejectedSpans": "7",
            "errorMessage": "spans[0]: bad; spans[1]: bad; spans[2]: bad; spans[3]: bad; "
            "spans[4]: bad (and 2 more)",
        }
    }
    reply = service.ExportTraceServiceResponse.FromString(traces.answer(common.PROTOBUF, decoded))
    assert reply.partial_success.rejected_spans == 7
