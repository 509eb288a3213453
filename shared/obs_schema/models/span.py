"""Span: one timed operation of a distributed trace (`POST /apm/spans`, and OTLP after mapping).

Names follow OpenTelemetry's data model in snake_case. Enums are words (`"server"`), but the
OTLP integers (`2`) and proto names (`"SPAN_KIND_SERVER"`) are accepted too, so a converter from
OTLP JSON can pass values through.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from obs_schema.models.fields import PRINTABLE, Name, ObsModel, OptionalSpanId, SpanId, TraceId
from obs_schema.models.jsonobject import JsonObject

MAX_SPAN_NAME_CHARS = 1024
MAX_STATUS_MESSAGE_CHARS = 4096
MAX_EVENTS = 128
MAX_LINKS = 128
_MAX_NANOS = 2**63 - 1  # OTLP fixed64 nanoseconds, stored as a signed 64-bit integer
_NANOS_PER_MS = 1_000_000


class SpanKind(StrEnum):
    """OpenTelemetry SpanKind; list order is the OTLP integer (0 unspecified ... 5 consumer)."""

    UNSPECIFIED = "unspecified"
    INTERNAL = "internal"
    SERVER = "server"
    CLIENT = "client"
    PRODUCER = "producer"
    CONSUMER = "consumer"


class StatusCode(StrEnum):
    """OpenTelemetry status code; list order is the OTLP integer (0 unset, 1 ok, 2 error)."""

    UNSET = "unset"
    OK = "ok"
    ERROR = "error"


_E = TypeVar("_E", bound=StrEnum)


def _otlp_enum(enum: type[_E], proto_prefix: str) -> Callable[[object], _E]:
    members = list(enum)

    def parse(value: object) -> _E:
        if isinstance(value, int) and not isinstance(value, bool):
            if 0 <= value < len(members):
                return members[value]
        elif isinstance(value, str):
            text = value.strip().lower().removeprefix(proto_prefix)
            for member in members:
                if member.value == text:
                    return member
        names = ", ".join(member.value for member in members)
        raise ValueError(f"expected one of {names} or its OTLP number 0-{len(members) - 1}")

    return parse


def _unix_nanos(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,19}", value):
        return int(value)  # OTLP JSON sends int64 as decimal strings
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    raise ValueError("expected epoch nanoseconds as an integer or a decimal string")


def _ms_to_nanos(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return value * _NANOS_PER_MS
    if isinstance(value, float) and math.isfinite(value):
        # Through the shortest decimal repr, so 1544712660250.5 ms is exactly ...250500000 ns.
        return int((Decimal(repr(value)) * _NANOS_PER_MS).to_integral_value())
    return value  # anything else fails in the nanosecond field, with its message


UnixNanos = Annotated[
    int,
    BeforeValidator(_unix_nanos),
    Field(gt=0, le=_MAX_NANOS),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "pattern": "^[0-9]{1,19}$"},
            ]
        },
        mode="validation",
    ),
]
"""Epoch nanoseconds; an integer or, as OTLP JSON sends int64, a decimal string."""

SpanName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_SPAN_NAME_CHARS, pattern=PRINTABLE),
]


class SpanStatus(ObsModel):
    """Outcome of the operation."""

    code: Annotated[StatusCode, BeforeValidator(_otlp_enum(StatusCode, "status_code_"))] = Field(
        default=StatusCode.UNSET, description="`unset`, `ok` or `error` (or OTLP 0/1/2)."
    )
    message: str = Field(
        default="", max_length=MAX_STATUS_MESSAGE_CHARS, description="Error description."
    )


class SpanEvent(ObsModel):
    """A timestamped annotation inside a span, e.g. an `exception`."""

    name: Name = Field(description="Event name, e.g. `exception`.")
    time_unix_nano: UnixNanos = Field(description="When it happened, epoch nanoseconds.")
    attributes: JsonObject = Field(default_factory=dict)


class SpanLink(ObsModel):
    """A causal link to a span of another (or the same) trace."""

    trace_id: TraceId
    span_id: SpanId
    attributes: JsonObject = Field(default_factory=dict)


class Span(ObsModel):
    """One span. Times are epoch nanoseconds; `start_ms`/`end_ms` (epoch milliseconds, may be
    fractional) are accepted instead of `start_time_unix_nano`/`end_time_unix_nano`."""

    trace_id: TraceId = Field(description="32 hex digits, stored lower-case.")
    span_id: SpanId = Field(description="16 hex digits, stored lower-case.")
    parent_span_id: OptionalSpanId = Field(
        default=None, description="The parent span; absent or empty for a root span."
    )
    name: SpanName = Field(description="Operation name, e.g. `GET /api/users`.")
    kind: Annotated[SpanKind, BeforeValidator(_otlp_enum(SpanKind, "span_kind_"))] = Field(
        default=SpanKind.INTERNAL, description="Role of the span (or OTLP number 0-5)."
    )
    service: Name = Field(description="Service that recorded the span (`service.name`).")
    start_time_unix_nano: UnixNanos = Field(description="Start, epoch nanoseconds.")
    end_time_unix_nano: UnixNanos = Field(description="End, epoch nanoseconds; not before start.")
    status: SpanStatus = Field(default_factory=SpanStatus)
    attributes: JsonObject = Field(
        default_factory=dict, description="Span attributes, e.g. `http.route`, `db.system`."
    )
    events: list[SpanEvent] = Field(default_factory=list, max_length=MAX_EVENTS)
    links: list[SpanLink] = Field(default_factory=list, max_length=MAX_LINKS)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "trace_id": "5b8efff798038103d269b633813fc60c",
                    "span_id": "eee19b7ec3c1b174",
                    "parent_span_id": "eee19b7ec3c1b173",
                    "name": "GET /api/users",
                    "kind": "server",
                    "service": "api",
                    "start_time_unix_nano": "1544712660000000000",
                    "end_time_unix_nano": "1544712661000000000",
                    "status": {"code": "error", "message": "boom"},
                    "attributes": {"http.route": "/api/users", "http.response.status_code": 500},
                }
            ]
        }
    )

    @model_validator(mode="before")
    @classmethod
    def _accept_milliseconds(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not ({"start_ms", "end_ms"} & data.keys()):
            return data
        data = dict(data)
        for ms_key, ns_key in (
            ("start_ms", "start_time_unix_nano"),
            ("end_ms", "end_time_unix_nano"),
        ):
            if ms_key in data and ns_key not in data:
                data[ns_key] = _ms_to_nanos(data[ms_key])
        return data

    @model_validator(mode="after")
    def _ends_after_start(self) -> Span:
        if self.end_time_unix_nano < self.start_time_unix_nano:
            raise ValueError("end_time_unix_nano is before start_time_unix_nano")
        return self

    @property
    def duration_ns(self) -> int:
        return self.end_time_unix_nano - self.start_time_unix_nano

    @property
    def duration_ms(self) -> float:
        return self.duration_ns / _NANOS_PER_MS

    @property
    def start_ms(self) -> float:
        return self.start_time_unix_nano / _NANOS_PER_MS

    @property
    def is_root(self) -> bool:
        return self.parent_span_id is None

    @property
    def is_error(self) -> bool:
        return self.status.code is StatusCode.ERROR
