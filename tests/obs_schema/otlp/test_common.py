"""The OTLP layer decodes both encodings the same way and answers as the spec says."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as traces
from opentelemetry.proto.common.v1 import common_pb2

from obs_schema.otlp import common
from obs_schema.otlp.common import OtlpError


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("application/x-protobuf", common.PROTOBUF),
        ("application/json; charset=utf-8", common.JSON),
        ("APPLICATION/JSON", common.JSON),
        ("text/plain", None),
        (None, None),
    ],
)
def test_media_type_routes_by_content_type(header: str | None, kind: str | None) -> None:
    assert common.media_type(header) == kind


def nested_protobuf() -> Any:
    value = common_pb2.AnyValue()
    kv = value.kvlist_value.values.add()
    kv.key = "list"
    kv.value.array_value.values.add().int_value = 7
    kv.value.array_value.values.add().string_value = "x"
    flag = value.kvlist_value.values.add()
    flag.key, flag.value.bool_value = "ok", True
    return value


NESTED_JSON = {
    "kvlistValue": {
        "values": [
            {
                "key": "list",
                "value": {"arrayValue": {"values": [{"intValue": "7"}, {"stringValue": "x"}]}},
            },
            {"key": "ok", "value": {"boolValue": True}},
        ]
    }
}


def test_any_values_decode_identically_from_both_encodings() -> None:
    expected = {"list": [7, "x"], "ok": True}
    assert common.any_value(nested_protobuf()) == expected
    assert common.any_value_json(NESTED_JSON) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"intValue": 5}, 5),
        ({"doubleValue": 1.5}, 1.5),
        ({"doubleValue": "NaN"}, "nan"),
        ({"bytesValue": "AQI="}, "AQI="),
        ({}, None),
    ],
)
def test_json_scalars_follow_the_proto3_mapping(value: dict[str, Any], expected: Any) -> None:
    got = common.any_value_json(value)
    assert (str(got) if expected == "nan" else got) == expected


@pytest.mark.parametrize(
    "value",
    [{"intValue": "12abc"}, {"stringValue": 5}, {"doubleValue": "fast"}, {"intValue": True}],
)
def test_mistyped_json_values_are_otlp_errors(value: dict[str, Any]) -> None:
    with pytest.raises(OtlpError):
        common.any_value_json(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5B8EFFF798038103D269B633813FC60C", "5b8efff798038103d269b633813fc60c"),
        ("", ""),
        (None, ""),
        ("0" * 32, ""),
    ],
)
def test_json_trace_ids_are_hex_in_any_case(value: str | None, expected: str) -> None:
    assert common.hex_id_json(value, 16, "traceId") == expected


@pytest.mark.parametrize("value", ["W47/95gDgQPSabYzgT/GDA==", "abc", "zz" * 16, 12])
def test_base64_or_short_ids_are_rejected(value: Any) -> None:
    with pytest.raises(OtlpError, match="traceId"):
        common.hex_id_json(value, 16, "traceId")


def test_int64_accepts_numbers_and_decimal_strings_only() -> None:
    assert common.int64("1544712660000000000") == 1544712660000000000
    assert common.int64(3) == 3
    for bad in ("1e9", "", True, 1.5, "9" * 30):
        with pytest.raises(OtlpError):
            common.int64(bad)


def test_undecodable_bodies_are_otlp_errors() -> None:
    with pytest.raises(OtlpError, match="protobuf"):
        common.decode(b"\xff\xff\xff", common.PROTOBUF, traces.ExportTraceServiceRequest)
    for body in (b"{", b"[1]"):
        with pytest.raises(OtlpError):
            common.decode(body, common.JSON, traces.ExportTraceServiceRequest)


def test_full_success_is_an_empty_response_and_partial_success_names_the_count() -> None:
    response = traces.ExportTraceServiceResponse
    assert common.success(common.JSON, response, "rejected_spans", 0, "") == b"{}"
    assert json.loads(common.success(common.JSON, response, "rejected_spans", 3, "bad ids")) == {
        "partialSuccess": {"rejectedSpans": "3", "errorMessage": "bad ids"}
    }
    decoded = response.FromString(
        common.success(common.PROTOBUF, response, "rejected_spans", 3, "x")
    )
    assert (decoded.partial_success.rejected_spans, decoded.partial_success.error_message) == (
        3,
        "x",
    )
    assert common.success(common.PROTOBUF, response, "rejected_spans", 0, "") == b""


def test_error_status_decodes_as_google_rpc_status() -> None:
    decoded = status_pb2.Status.FromString(common.status(common.PROTOBUF, 3, "bad request ü"))
    assert (decoded.code, decoded.message) == (3, "bad request ü")
    assert json.loads(common.status(common.JSON, 3, "m")) == {
        "code": 3,
        "message": "m",
        "details": [],
    }
