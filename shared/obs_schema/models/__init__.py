"""The pydantic models the six Workers share: what each accepts, stores and answers.

One module per concept: `log`, `span`, `metric`, `health`, `alert`, `security`, `vital`;
`fields`, `instant` and `jsonobject` hold the types and limits they share. Pure logic
(scrubbing, sketches, rules) does not import these; it works on plain data, so it also runs
in Pyodide without pydantic.
"""

from obs_schema.models.alert import (
    AlertAnnotations,
    AlertEvent,
    AlertLink,
    AlertSeverity,
    AlertStatus,
    fingerprint,
)
from obs_schema.models.fields import Labels, ObsModel, SpanId, TraceId, WebUrl
from obs_schema.models.health import ComponentHealth, HealthReport, HealthStatus, worst
from obs_schema.models.instant import UtcDatetime, format_time, parse_time
from obs_schema.models.jsonobject import JsonObject
from obs_schema.models.log import LogRecord
from obs_schema.models.metric import HistogramValue, MetricKind, MetricPoint, Temporality
from obs_schema.models.security import SecurityAction, SecurityEvent
from obs_schema.models.span import Span, SpanEvent, SpanKind, SpanLink, SpanStatus, StatusCode
from obs_schema.models.vital import (
    REMOVED_METRICS,
    NavigationType,
    VitalName,
    VitalRating,
    WebVital,
    rate,
)
from obs_schema.severity import Level, normalise_level

__all__ = [
    "REMOVED_METRICS",
    "AlertAnnotations",
    "AlertEvent",
    "AlertLink",
    "AlertSeverity",
    "AlertStatus",
    "ComponentHealth",
    "HealthReport",
    "HealthStatus",
    "HistogramValue",
    "JsonObject",
    "Labels",
    "Level",
    "LogRecord",
    "MetricKind",
    "MetricPoint",
    "NavigationType",
    "ObsModel",
    "SecurityAction",
    "SecurityEvent",
    "Span",
    "SpanEvent",
    "SpanId",
    "SpanKind",
    "SpanLink",
    "SpanStatus",
    "StatusCode",
    "Temporality",
    "TraceId",
    "UtcDatetime",
    "VitalName",
    "VitalRating",
    "WebUrl",
    "WebVital",
    "fingerprint",
    "format_time",
    "normalise_level",
    "parse_time",
    "rate",
    "worst",
]
