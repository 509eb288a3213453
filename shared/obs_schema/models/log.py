"""LogRecord: one log line as the logs Worker accepts it (`POST /logs/ingest`, NDJSON or JSON)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasChoices,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from obs_schema.models.fields import Name, ObsModel, OptionalSpanId, OptionalTraceId, max_utf8_bytes
from obs_schema.models.instant import UtcDatetime
from obs_schema.models.jsonobject import JsonObject
from obs_schema.severity import Level, level_from_otlp, normalise_level

MAX_MESSAGE_BYTES = 32 * 1024

# Field names plus the other spellings common loggers emit (pino's `msg`/`time`,
# Elastic's `@timestamp`); any other top-level key is kept as an attribute.
_KNOWN_KEYS = frozenset(
    {"timestamp", "time", "ts", "@timestamp", "level", "severity", "message", "msg"}
    | {"service", "trace_id", "span_id", "attributes", "severity_number"}
)


class LogRecord(ObsModel):
    """A structured log record.

    Unknown top-level keys are not lost: they are folded into `attributes` (an explicit
    attribute of the same name wins), so `{"message": "x", "service": "api", "user": "u1"}`
    keeps `user`.
    """

    timestamp: UtcDatetime | None = Field(
        default=None,
        validation_alias=AliasChoices("timestamp", "time", "ts", "@timestamp"),
        description="When the event happened. Absent: the time the record was received.",
    )
    level: Level = Field(
        default=Level.INFO,
        validation_alias=AliasChoices("level", "severity"),
        description=(
            "Severity, normalised. Also accepted: `warn`, `err`, `crit`, `emerg`, `information`,"
            " OpenTelemetry names (`WARN2`) and syslog numbers 0-7 (0 emergency ... 7 debug)."
            " Absent: derived from `severity_number`, else `info`."
        ),
    )
    severity_number: int | None = Field(
        default=None,
        ge=1,
        le=24,
        description="OpenTelemetry SeverityNumber 1-24, kept as sent; sets `level` if absent.",
    )
    message: Annotated[str, AfterValidator(max_utf8_bytes(MAX_MESSAGE_BYTES))] = Field(
        max_length=MAX_MESSAGE_BYTES,
        validation_alias=AliasChoices("message", "msg"),
        description=f"The log line; at most {MAX_MESSAGE_BYTES} bytes of UTF-8.",
    )
    service: Name = Field(description="Name of the service that logged it, e.g. `api`.")
    trace_id: OptionalTraceId = Field(
        default=None, description="Trace the record belongs to: 32 hex digits, stored lower-case."
    )
    span_id: OptionalSpanId = Field(
        default=None, description="Span the record belongs to: 16 hex digits, stored lower-case."
    )
    attributes: JsonObject = Field(
        default_factory=dict, description="Structured context, nested JSON (bounded)."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "timestamp": "2026-11-27T10:00:00.123Z",
                    "level": "error",
                    "message": "payment declined",
                    "service": "billing",
                    "trace_id": "5b8efff798038103d269b633813fc60c",
                    "span_id": "eee19b7ec3c1b174",
                    "attributes": {"http": {"route": "/pay", "status": 402}},
                }
            ]
        }
    )

    @model_validator(mode="before")
    @classmethod
    def _fold_unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        extra = {key: value for key, value in data.items() if key not in _KNOWN_KEYS}
        attributes = data.get("attributes", {})
        if not extra or not isinstance(attributes, dict):
            return data
        known = {key: value for key, value in data.items() if key in _KNOWN_KEYS}
        return {**known, "attributes": {**extra, **attributes}}

    @field_validator("level", mode="before")
    @classmethod
    def _normalise_level(cls, value: object) -> Level:
        return normalise_level(value)

    @model_validator(mode="after")
    def _level_from_severity_number(self) -> LogRecord:
        if "level" not in self.model_fields_set and self.severity_number is not None:
            self.level = level_from_otlp(self.severity_number)
        return self
