"""What every OTLP/HTTP signal shares: encodings, values, ids and spec-shaped answers.

Spec: opentelemetry-proto `docs/specification.md`. JSON uses hex (not base64) trace/span ids,
integer enums, lowerCamelCase keys and int64 as decimal strings (numbers accepted too);
protobuf uses the generated messages. Receivers answer in the encoding they were sent, with
`partialSuccess` when some records were rejected, and a `google.rpc.Status` on errors.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError, Message

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
MAX_DEPTH = 16  # nested arrays/kvlists deeper than this are cut, not recursed into


class OtlpError(ValueError):
    """The request cannot be decoded; answered 400 and never retried by clients."""


def media_type(content_type: str | None) -> str | None:
    """`application/x-protobuf`, `application/json`, or None when neither (a 415)."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in (PROTOBUF, "application/protobuf"):
        return PROTOBUF
    if kind == JSON or kind.endswith("+json"):
        return JSON
    return None


def decode(body: bytes, kind: str, message: type[Message]) -> Message | dict[str, Any]:
    """A protobuf message, or the JSON object, of an export request."""
    if kind == PROTOBUF:
        request = message()
        try:
            request.ParseFromString(body)
        except (DecodeError, ValueError) as error:
            raise OtlpError(f"body is not a valid protobuf {message.__name__}: {error}") from None
        return request
    try:
        data = json.loads(body or b"{}")
    except ValueError as error:
        raise OtlpError(f"body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise OtlpError(f"body must be a JSON object ({message.__name__})")
    return data


# --- rejections -----------------------------------------------------------------------------
MAX_REPORTED_ERRORS = 5


@dataclass
class Rejections:
    """What a decoder refused: the count for `partialSuccess` and the first few reasons."""

    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def reject(self, where: str, reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(f"{where}: {reason}")

    @property
    def error_message(self) -> str:
        more = self.rejected - len(self.errors)
        return "; ".join(self.errors) + (f" (and {more} more)" if more > 0 else "")


# --- values ---------------------------------------------------------------------------------
def any_value(value: Any, depth: int = 0) -> Any:
    """A protobuf `AnyValue` as plain Python."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return (
            [any_value(v, depth + 1) for v in value.array_value.values] if depth < MAX_DEPTH else []
        )
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values, depth + 1) if depth < MAX_DEPTH else {}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, kind)


def attributes(pairs: Any, depth: int = 0) -> dict[str, Any]:
    """Protobuf `repeated KeyValue` as a dict (later duplicates win, as most SDKs do)."""
    return {pair.key: any_value(pair.value, depth) for pair in pairs}


def any_value_json(value: Any, depth: int = 0) -> Any:
    """A JSON-mapped `AnyValue` as plain Python; int64 strings become ints."""
    if not isinstance(value, dict) or not value:
        return None
    if "stringValue" in value:
        return _typed(value["stringValue"], str)
    if "boolValue" in value:
        return _typed(value["boolValue"], bool)
    if "intValue" in value:
        return int64(value["intValue"])
    if "doubleValue" in value:
        return _double(value["doubleValue"])
    if "arrayValue" in value:
        items = (value["arrayValue"] or {}).get("values") or []
        return [any_value_json(v, depth + 1) for v in _list(items)] if depth < MAX_DEPTH else []
    if "kvlistValue" in value:
        pairs = (value["kvlistValue"] or {}).get("values") or []
        return attributes_json(pairs, depth + 1) if depth < MAX_DEPTH else {}
    if "bytesValue" in value:
        return _typed(value["bytesValue"], str)
    return None


def attributes_json(pairs: Any, depth: int = 0) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for pair in _list(pairs):
        if not isinstance(pair, dict) or not isinstance(pair.get("key"), str):
            raise OtlpError("an attribute must be an object with a string 'key'")
        result[pair["key"]] = any_value_json(pair.get("value"), depth)
    return result


def int64(value: Any) -> int:
    """An int64 field: a JSON number or decimal string (the spec requires accepting both)."""
    if isinstance(value, bool):
        raise OtlpError(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) <= 20:
        return int(value)
    raise OtlpError(f"expected an integer or a decimal string, got {str(value)[:40]!r}")


# --- ids --------------------------------------------------------------------------------------
def hex_id(raw: bytes) -> str:
    """Protobuf id bytes as lower-case hex; all-zero or empty ids mean "absent" ("")."""
    return raw.hex() if raw and any(raw) else ""


def hex_id_json(value: Any, nbytes: int, field: str) -> str:
    """A JSON id (hex, any case) as lower-case hex; "" when absent or all zeros."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or len(value) != nbytes * 2:
        raise OtlpError(f"{field} must be {nbytes * 2} hex characters")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise OtlpError(f"{field} must be hex, got {value[:40]!r}") from None
    return hex_id(raw)


# --- answers ----------------------------------------------------------------------------------
def success(
    kind: str, response: type[Message], rejected_field: str, rejected: int, error: str
) -> bytes:
    """An `Export*ServiceResponse`; `partialSuccess` only when something was rejected."""
    if kind == PROTOBUF:
        message: Any = response()
        if rejected:
            setattr(message.partial_success, rejected_field, rejected)
            message.partial_success.error_message = error
        return bytes(message.SerializeToString())
    if not rejected:
        return b"{}"
    camel = "".join(p.capitalize() if i else p for i, p in enumerate(rejected_field.split("_")))
    return json.dumps({"partialSuccess": {camel: str(rejected), "errorMessage": error}}).encode()


def status(kind: str, code: int, message: str) -> bytes:
    """A `google.rpc.Status` body for an error answer, in the request's encoding."""
    if kind == PROTOBUF:
        text = message.encode()
        # Field 1 (code, varint) and field 2 (message, bytes), by hand: one tiny message does
        # not justify shipping googleapis-common-protos to every Worker.
        return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text
    return json.dumps({"code": code, "message": message, "details": []}).encode()


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def _typed(value: Any, kind: type) -> Any:
    if not isinstance(value, kind):
        raise OtlpError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def _double(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    raise OtlpError(f"expected a number, got {str(value)[:40]!r}")


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise OtlpError(f"expected a list, got {type(value).__name__}")
    return value
