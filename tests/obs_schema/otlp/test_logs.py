"""OTLP logs decode alike from protobuf and spec JSON, record by record."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from google.protobuf.json_format import ParseDict
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as service

from obs_schema.otlp import common, logs
from obs_schema.otlp.common import OtlpError

# The specification's example (opentelemetry-proto examples/logs.json), one more record.
SPEC: dict[str, Any] = {
    "resourceLogs": [
        {
            "resource": {
                "attributes": [
                    {"key": "service.name", "value": {"stringValue": "my.service"}},
                    {"key": "host.name", "value": {"stringValue": "edge-1"}},
                ]
            },
            "scopeLogs": [
                {
                    "scope": {"name": "my.library", "version": "1.0.0"},
                    "logRecords": [
                        {
                            "timeUnixNano": "1544712660300000000",
                            "observedTimeUnixNano": "1544712660300000000",
                            "severityNumber": 10,
                            "severityText": "Information",
                            "traceId": "5B8EFFF798038103D269B633813FC60C",
                            "spanId": "EEE19B7EC3C1B174",
                            "body": {"stringValue": "Example log record"},
                            "attributes": [
                                {
                                    "key": "string.attribute",
                                    "value": {"stringValue": "some string"},
                                },
                                {"key": "int.attribute", "value": {"intValue": "10"}},
                                {"key": "double.attribute", "value": {"doubleValue": 637.704}},
                                {
                                    "key": "array.attribute",
                                    "value": {
                                        "arrayValue": {
                                            "values": [
                                                {"stringValue": "many"},
                                                {"stringValue": "values"},
                                            ]
                                        }
                                    },
                                },
                                {
                                    "key": "map.attribute",
                                    "value": {
                                        "kvlistValue": {
                                            "values": [
                                                {
                                                    "key": "some.map.key",
                                                    "value": {"stringValue": "some value"},
                                                }
                                            ]
                                        }
                                    },
                                },
                            ],
                        },
                        {
                            "observedTimeUnixNano": 1544712661000000000,
                            "severityText": "WARN",
                            "body": {
                                "kvlistValue": {
                                    "values": [{"key": "event", "value": {"stringValue": "x"}}]
                                }
                            },
                            "eventName": "pitch.viewed",
                        },
                    ],
                }
            ],
        }
    ]
}

EXPECTED = [
    {
        "message": "Example log record",
        "service": "my.service",
        "level": "info",
        "trace_id": "5b8efff798038103d269b633813fc60c",
        "span_id": "eee19b7ec3c1b174",
        "timestamp": 1544712660300,
        "attributes": {
            "string.attribute": "some string",
            "int.attribute": 10,
            "double.attribute": 637.704,
            "array.attribute": ["many", "values"],
            "map.attribute": {"some.map.key": "some value"},
            "resource": {"host.name": "edge-1"},
            "scope": {"name": "my.library", "version": "1.0.0"},
        },
    },
    {
        "message": '{"event":"x"}',
        "service": "my.service",
        "level": "warning",
        "trace_id": None,
        "span_id": None,
        "timestamp": 1544712661000,
        "attributes": {
            "resource": {"host.name": "edge-1"},
            "scope": {"name": "my.library", "version": "1.0.0"},
            "event.name": "pitch.viewed",
        },
    },
]


def protobuf_body(data: dict[str, Any]) -> bytes:
    """The same request in protobuf (proto3 JSON wants base64 ids where OTLP JSON has hex)."""
    copy = json.loads(json.dumps(data))
    for resource_logs in copy["resourceLogs"]:
        for scope_logs in resource_logs["scopeLogs"]:
            for record in scope_logs["logRecords"]:
                for key in ("traceId", "spanId"):
                    if key in record:
                        record[key] = base64.b64encode(bytes.fromhex(record[key])).decode()
    return bytes(ParseDict(copy, service.ExportLogsServiceRequest()).SerializeToString())


def test_spec_json_decodes_to_records() -> None:
    decoded = logs.decode(json.dumps(SPEC).encode(), common.JSON)
    assert decoded.records == EXPECTED and decoded.rejected == 0


def test_protobuf_decodes_to_the_same_records() -> None:
    decoded = logs.decode(protobuf_body(SPEC), common.PROTOBUF)
    assert decoded.records == EXPECTED


def test_bad_ids_reject_only_their_record() -> None:
    bad = json.loads(json.dumps(SPEC))
    bad["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["traceId"] = "abc"
    decoded = logs.decode(json.dumps(bad).encode(), common.JSON)
    assert [r["message"] for r in decoded.records] == ['{"event":"x"}']
    assert decoded.rejected == 1
    assert decoded.error_message == (
        "resourceLogs[0].scopeLogs[0].logRecords[0]: traceId must be 32 hex characters"
    )


@pytest.mark.parametrize(
    ("number", "text", "level"),
    [
        (17, "", "error"),
        (0, "Fatal", "fatal"),
        (0, "WARN2", "warning"),
        (0, "odd", "info"),
        (0, "", "info"),
        (23, "debug", "fatal"),
    ],
)
def test_severity_number_wins_then_text_then_info(number: int, text: str, level: str) -> None:
    body = {
        "resourceLogs": [
            {
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "severityNumber": number,
                                "severityText": text,
                                "body": {"stringValue": "m"},
                            }
                        ]
                    }
                ]
            }
        ]
    }
    (record,) = logs.decode(json.dumps(body).encode(), common.JSON).records
    assert record["level"] == level and record["service"] == "unknown_service"


@pytest.mark.parametrize(
    "body", [b"[1]", b"{oops", b'{"resourceLogs": 3}', b'{"resourceLogs": [1]}']
)
def test_bodies_that_are_no_export_request_are_errors(body: bytes) -> None:
    with pytest.raises(OtlpError):
        logs.decode(body, common.JSON)


def test_answers_follow_the_spec() -> None:
    assert logs.answer(common.JSON, 0, "") == b"{}"
    assert json.loads(logs.answer(common.JSON, 2, "two bad")) == {
        "partialSuccess": {"rejectedLogRecords": "2", "errorMessage": "two bad"}
    }
    reply = service.ExportLogsServiceResponse.FromString(logs.answer(common.PROTOBUF, 3, "x"))
    assert reply.partial_success.rejected_log_records == 3
