"""Response shapes of the logs Worker's routes, for its OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Rejected(BaseModel):
    index: int = Field(description="Position of the record in the batch (0-based).")
    error: str = Field(description="Why it was not stored.")


class IngestAnswer(BaseModel):
    accepted: int = Field(description="Records stored (committed before this answer).")
    rejected: list[Rejected] = Field(description="Refused records (the first 100).")


class StoredLog(BaseModel):
    id: str = Field(description="Stable id; ids order records by time.")
    timestamp: str = Field(description="When it happened (RFC 3339 UTC).")
    received: str = Field(description="When the stack received it.")
    level: str
    service: str
    message: str = Field(description="Scrubbed: personal data replaced by typed markers.")
    trace_id: str | None = None
    span_id: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    fingerprint: str = Field(description="Hash of the message template (numbers, ids elided).")
    source: str = Field(description="`http` (POST /logs/ingest) or `otlp` (POST /v1/logs).")
    edge: str = Field(description="Cloudflare colo that received it (`local` here).")


class QueryAnswer(BaseModel):
    logs: list[StoredLog]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")


class TraceAnswer(BaseModel):
    trace_id: str
    logs: list[StoredLog] = Field(description="Oldest first.")


class StatsBucket(BaseModel):
    start: str
    total: int
    by_level: dict[str, int]
    by_service: dict[str, int]


class StatsAnswer(BaseModel):
    since: str
    until: str
    step: str
    total: int
    by_level: dict[str, int]
    by_service: dict[str, int]
    buckets: list[StatsBucket]


class ScrubbingConfig(BaseModel):
    extra_patterns: dict[str, str] = Field(
        default_factory=dict,
        description="Name -> regular expression; matches become `[name:hash]`.",
    )
    allow_keys: list[str] = Field(default_factory=list, description="Keys never treated as secret.")
    sensitive_keys: list[str] = Field(
        default_factory=list, description="More keys whose values are always secret."
    )
    ip_mode: str = Field(default="hash", description="`hash`, `truncate`, `redact` or `keep`.")
    disabled: list[str] = Field(default_factory=list, description="Classes not to scrub.")


class ScrubPreview(BaseModel):
    text: str = Field(max_length=64 * 1024)
