"""OTLP/HTTP logs: `ExportLogsServiceRequest` (protobuf or JSON) into plain log records.

Both encodings give the same records, shaped like the logs Worker's own ingest JSON, so one
validator judges them all: `timestamp` (epoch ms, from `timeUnixNano`, else
`observedTimeUnixNano`), `level` (from `severityNumber`, else `severityText`), `message` (the
body: a string as is, any other value as JSON), `service` (resource `service.name`), hex
`trace_id`/`span_id`, and `attributes` - the record's own, plus `resource` (the resource's
other attributes), `scope` and `event.name` when present. A record with malformed ids is
rejected on its own for `partialSuccess`; only a body that is no export request is an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

from obs_schema.otlp import common
from obs_schema.otlp.common import OtlpError
from obs_schema.severity import level_from_otlp, normalise_level

__all__ = ["Decoded", "answer", "decode"]

UNKNOWN_SERVICE = "unknown_service"


@dataclass
class Decoded(common.Rejections):
    records: list[dict[str, Any]] = field(default_factory=list)


def decode(body: bytes, kind: str) -> Decoded:
    """The records of one export request in encoding `kind` (`common.PROTOBUF`/`common.JSON`)."""
    message = common.decode(body, kind, ExportLogsServiceRequest)
    if isinstance(message, dict):
        return _from_json(message)
    return _from_protobuf(message)


def answer(kind: str, rejected: int, error_message: str) -> bytes:
    """The `ExportLogsServiceResponse`: `{}`, or `partialSuccess` with `rejectedLogRecords`."""
    return common.success(
        kind, ExportLogsServiceResponse, "rejected_log_records", rejected, error_message
    )


# --- protobuf -------------------------------------------------------------------------------
def _from_protobuf(request: Any) -> Decoded:
    out = Decoded()
    for r, resource_logs in enumerate(request.resource_logs):
        resource = common.attributes(resource_logs.resource.attributes)
        service = _service(resource)
        for s, scope_logs in enumerate(resource_logs.scope_logs):
            scope = _scope(scope_logs.scope.name, scope_logs.scope.version)
            for i, record in enumerate(scope_logs.log_records):
                where = f"resourceLogs[{r}].scopeLogs[{s}].logRecords[{i}]"
                trace_id, span_id = record.trace_id, record.span_id
                if trace_id and len(trace_id) != 16:
                    out.reject(where, "traceId must be 16 bytes")
                    continue
                if span_id and len(span_id) != 8:
                    out.reject(where, "spanId must be 8 bytes")
                    continue
                body = record.body
                message = _message(common.any_value(body) if body.WhichOneof("value") else None)
                out.records.append(
                    _record(
                        time_ns=record.time_unix_nano or record.observed_time_unix_nano,
                        number=record.severity_number,
                        text=record.severity_text,
                        message=message,
                        service=service,
                        trace_id=common.hex_id(trace_id),
                        span_id=common.hex_id(span_id),
                        attributes=common.attributes(record.attributes),
                        resource=resource,
                        scope=scope,
                        event_name=record.event_name,
                    )
                )
    return out


# --- JSON -----------------------------------------------------------------------------------
def _from_json(data: dict[str, Any]) -> Decoded:
    out = Decoded()
    for r, resource_logs in enumerate(_objects(data.get("resourceLogs"), "resourceLogs")):
        resource = common.attributes_json(
            (resource_logs.get("resource") or {}).get("attributes") or []
        )
        service = _service(resource)
        for s, scope_logs in enumerate(_objects(resource_logs.get("scopeLogs"), "scopeLogs")):
            raw_scope = scope_logs.get("scope") or {}
            scope = _scope(str(raw_scope.get("name") or ""), str(raw_scope.get("version") or ""))
            for i, record in enumerate(_objects(scope_logs.get("logRecords"), "logRecords")):
                where = f"resourceLogs[{r}].scopeLogs[{s}].logRecords[{i}]"
                try:
                    out.records.append(_json_record(record, service, resource, scope))
                except OtlpError as error:
                    out.reject(where, str(error))
    return out


def _json_record(
    record: dict[str, Any], service: str, resource: dict[str, Any], scope: dict[str, str]
) -> dict[str, Any]:
    time_ns = record.get("timeUnixNano") or record.get("observedTimeUnixNano") or 0
    number = record.get("severityNumber") or 0
    if isinstance(number, str) and not number.lstrip("-").isdigit():
        number = 0  # an enum name where the spec wants a number: leniently treated as unset
    return _record(
        time_ns=common.int64(time_ns),
        number=common.int64(number),
        text=str(record.get("severityText") or ""),
        message=_message(common.any_value_json(record.get("body"))),
        service=service,
        trace_id=common.hex_id_json(record.get("traceId"), 16, "traceId"),
        span_id=common.hex_id_json(record.get("spanId"), 8, "spanId"),
        attributes=common.attributes_json(record.get("attributes") or []),
        resource=resource,
        scope=scope,
        event_name=str(record.get("eventName") or ""),
    )


# --- shared ---------------------------------------------------------------------------------
def _record(
    *,
    time_ns: int,
    number: int,
    text: str,
    message: str,
    service: str,
    trace_id: str,
    span_id: str,
    attributes: dict[str, Any],
    resource: dict[str, Any],
    scope: dict[str, str],
    event_name: str,
) -> dict[str, Any]:
    extra = {k: v for k, v in resource.items() if k != "service.name"}
    if extra:
        attributes["resource"] = extra
    if scope:
        attributes["scope"] = scope
    if event_name:
        attributes["event.name"] = event_name
    record: dict[str, Any] = {
        "message": message,
        "service": service,
        "level": _level(number, text),
        "trace_id": trace_id or None,
        "span_id": span_id or None,
        "attributes": attributes,
    }
    if time_ns:
        record["timestamp"] = time_ns // 1_000_000
    return record


def _level(number: int, text: str) -> str:
    if 1 <= number <= 24:
        return level_from_otlp(number).value
    try:
        return normalise_level(text, numeric="otlp").value if text.strip() else "info"
    except ValueError:
        return "info"  # an unknown severityText is a label, not a reason to drop the record


def _message(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _service(resource: dict[str, Any]) -> str:
    name = resource.get("service.name")
    return name if isinstance(name, str) and name.strip() else UNKNOWN_SERVICE


def _scope(name: str, version: str) -> dict[str, str]:
    return {k: v for k, v in (("name", name), ("version", version)) if v}


def _objects(value: Any, name: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise OtlpError(f"{name} must be a list of objects")
    return value
