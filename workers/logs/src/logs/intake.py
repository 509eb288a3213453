"""Incoming log records: from a request body to validated `Entry`s, one error per bad record.

The rules are those of `obs_schema.models.log.LogRecord` (aliases, level dialects, trace id
shapes, bounded attributes, unknown keys folded into attributes) - the model documents the API
and its tests pin the rules; this module applies them at ingest speed, without building a
pydantic model per record (15 us each, more than all the rest of ingest). Tests check that both
accept and refuse the same records.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from logs.attributes import AttributeCodec
from logs.rejection import RecordError
from obs_schema.severity import Level, level_from_otlp, normalise_level

MAX_MESSAGE_BYTES = 32 * 1024
MAX_NAME_CHARS = 256
_SECONDS_CUTOFF = 100_000_000_000  # below: epoch seconds; above: epoch ms (as everywhere here)
_MAX_MS = 253402300800000  # 10000-01-01
_TIME_KEYS = ("timestamp", "time", "ts", "@timestamp")
_KNOWN = frozenset(
    {"timestamp", "time", "ts", "@timestamp", "level", "severity", "message", "msg"}
    | {"service", "trace_id", "span_id", "attributes", "severity_number"}
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HEX = re.compile(r"[0-9a-fA-F]+")
_EPOCH_TEXT = re.compile(r"-?[0-9]{1,16}(?:\.[0-9]{1,9})?")
_LEVEL_RANK = {level: level.rank for level in Level}
_levels: dict[object, int] = {}
_services: dict[str, str] = {}  # service names as given -> as checked (a few per deployment)


@dataclass(slots=True)
class Entry:
    ts: int  # when it happened, epoch ms (the receive time when the record had none)
    level: int  # Level rank: 0 trace ... 7 fatal
    service: str
    message: str
    trace_id: str | None = None
    span_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)  # as received: never stored
    stored_attributes: str | None = None  # checked, scrubbed, JSON: what is stored


def normalise(item: object, received_ms: int, codec: AttributeCodec) -> Entry:
    """The `Entry` of one decoded JSON record, or `RecordError`.

    Records of known keys only take a quicker road to the same answer: each field in the
    order `_general` checks them (so the first error is the same), its usual shape (epoch ms
    `timestamp`, a level name seen before, a service name seen before, a short ASCII message)
    answered inline, anything else by `_general`'s own function for that field."""
    if type(item) is not dict or not _KNOWN.issuperset(item):
        return _general(item, received_ms, codec)
    attributes = item.get("attributes")
    if attributes is None:
        attributes, stored = {}, None
    elif isinstance(attributes, dict):
        stored = codec.encode(attributes)
    else:
        raise RecordError("attributes must be a JSON object")
    ts = item.get("timestamp")
    if type(ts) is not int or not _SECONDS_CUTOFF <= ts < _MAX_MS:
        ts = _timestamp(item, received_ms)  # (epoch ms in range are stored as they came)
    level = item.get("level")
    rank = _levels.get((str, level)) if type(level) is str else None
    if rank is None:
        rank = _level(item)
    service = item.get("service")
    name = _services.get(service) if type(service) is str else None
    if name is None:
        name = _service(service)
        if isinstance(service, str) and len(_services) < 1024:
            _services[service] = name
    message = item.get("message")
    if type(message) is not str or len(message) > MAX_MESSAGE_BYTES // 4 or not message.isascii():
        message = _message(item)
    trace = item.get("trace_id")
    if trace is not None:
        trace = _hex_id(trace, 32, "trace_id")
    span = item.get("span_id")
    if span is not None:
        span = _hex_id(span, 16, "span_id")
    return Entry(ts, rank, name, message, trace, span, attributes, stored)


def _general(item: object, received_ms: int, codec: AttributeCodec) -> Entry:
    """`normalise` for any record: the rules one by one."""
    if not isinstance(item, dict):
        raise RecordError(f"a record must be a JSON object, not {_json_type(item)}")
    attributes = item.get("attributes")
    if attributes is None:
        attributes = {}
    elif not isinstance(attributes, dict):
        raise RecordError("attributes must be a JSON object")
    if not _KNOWN.issuperset(item):
        extra = {k: v for k, v in item.items() if k not in _KNOWN}
        attributes = {**extra, **attributes}  # an explicit attribute wins over a stray key
    stored = codec.encode(attributes)
    return Entry(
        ts=_timestamp(item, received_ms),
        level=_level(item),
        service=_service(item.get("service")),
        message=_message(item),
        trace_id=_hex_id(item.get("trace_id"), 32, "trace_id"),
        span_id=_hex_id(item.get("span_id"), 16, "span_id"),
        attributes=attributes,
        stored_attributes=stored,
    )


def _message(item: dict[str, Any]) -> str:
    message = item.get("message", item.get("msg"))
    if message is None:
        raise RecordError("message is required")
    if not isinstance(message, str):
        raise RecordError(f"message must be a string, not {_json_type(message)}")
    if len(message) > MAX_MESSAGE_BYTES // 4:
        try:
            size = len(message.encode())
        except UnicodeEncodeError:
            raise RecordError("message contains an unpaired surrogate (invalid Unicode)") from None
        if size > MAX_MESSAGE_BYTES:
            raise RecordError(f"message is {size} bytes; the limit is {MAX_MESSAGE_BYTES}")
    elif not message.isascii():
        try:
            message.encode()
        except UnicodeEncodeError:
            raise RecordError("message contains an unpaired surrogate (invalid Unicode)") from None
    return message


def _service(value: object) -> str:
    if not isinstance(value, str):
        raise RecordError("service is required (a string naming what logged it)")
    name = value.strip()
    if not name or len(name) > MAX_NAME_CHARS or _CONTROL.search(name):
        raise RecordError(f"service must be 1-{MAX_NAME_CHARS} printable characters")
    if not name.isascii():
        try:
            name.encode()
        except UnicodeEncodeError:
            # Refused here, or the whole batch would fail where the shard stores it.
            raise RecordError("service contains an unpaired surrogate (invalid Unicode)") from None
    return name


def _level(item: dict[str, Any]) -> int:
    value = item.get("level", item.get("severity"))
    if value is None:
        number = item.get("severity_number")
        if number is None:
            return Level.INFO.rank
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 24:
            raise RecordError("severity_number must be an integer 1-24 (OpenTelemetry)")
        return level_from_otlp(number).rank
    key = (type(value), value) if isinstance(value, int | float | str) else None
    rank = _levels.get(key) if key is not None else None
    if rank is None:
        try:
            rank = normalise_level(value).rank
        except ValueError as error:
            raise RecordError(f"level: {error}") from None
        if key is not None and len(_levels) < 1024:
            _levels[key] = rank
    return rank


def _timestamp(item: dict[str, Any], received_ms: int) -> int:
    for key in _TIME_KEYS:
        value = item.get(key)
        if value is not None:
            return _instant(value)
    return received_ms


def _instant(value: object) -> int:
    if isinstance(value, bool):
        raise RecordError("timestamp must be RFC 3339 or epoch milliseconds, not a boolean")
    if isinstance(value, int | float):
        return _epoch(float(value))
    if not isinstance(value, str):
        raise RecordError("timestamp must be RFC 3339 text or epoch milliseconds")
    text = value.strip()
    if _EPOCH_TEXT.fullmatch(text):
        return _epoch(float(text))
    # RFC 3339 needs a full date and time; fromisoformat alone would take a bare date.
    if len(text) < 19 or text[4] != "-" or text[7] != "-" or text[10] not in "Tt ":
        raise RecordError(f"timestamp {text[:40]!r} is not RFC 3339 or epoch milliseconds")
    try:
        moment = datetime.fromisoformat(text.replace("t", "T").replace("z", "Z"))
    except ValueError:
        raise RecordError(f"timestamp {text[:40]!r} is not a valid RFC 3339 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # no offset: UTC, never the server's zone
    return round(moment.timestamp() * 1000)


def _epoch(number: float) -> int:
    if not math.isfinite(number):
        raise RecordError("timestamp must be a finite number")
    millis = number * 1000 if abs(number) < _SECONDS_CUTOFF else number
    if not 0 <= millis < _MAX_MS:  # 1970 .. 9999
        raise RecordError("timestamp is outside the years 1970-9999")
    return round(millis)


def _hex_id(value: object, digits: int, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) != digits or not _HEX.fullmatch(value):
        raise RecordError(f"{name} must be {digits} hex digits")
    if value.strip("0") == "":
        raise RecordError(f"an all-zero {name} is invalid (W3C Trace Context)")
    return value.lower()


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", str: "a string", list: "an array", dict: "an object"}.get(
        type(value), "a number"
    )


# --- bodies ------------------------------------------------------------------------------------
class BodyError(ValueError):
    """The body as a whole cannot be read (answered 400)."""


def records_of(body: bytes, content_type: str) -> list[Any]:
    """The records of an ingest body: a JSON array, `{"logs": [...]}`, one object, or NDJSON.

    NDJSON lines that are not JSON come back as `BadLine`s: they are rejected one by one,
    without losing the lines around them.
    """
    kind = content_type.split(";")[0].strip().lower()
    if kind in (
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonlines",
        "application/jsonlines",
    ):
        return _ndjson(body)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise BodyError(f"request body is not valid JSON: {error}") from None
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("logs"), list):
        return list(data["logs"])
    if isinstance(data, dict) and "logs" not in data:
        return [data]
    raise BodyError('expected a JSON array of records, {"logs": [...]}, or NDJSON')


@dataclass(frozen=True)
class BadLine:
    reason: str


def _ndjson(body: bytes) -> list[Any]:
    records: list[Any] = []
    for number, line in enumerate(body.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except (ValueError, UnicodeDecodeError):
            records.append(BadLine(f"line {number} is not valid JSON"))
    return records
