"""AlertEvent: what the alerting Worker takes in (`POST /alerts/events`, service bindings).

The default fingerprint is Alertmanager's own (FNV-1a 64 over the sorted label set, `alertname`
included), so an alert sent here and the same alert in a Prometheus/Alertmanager UI share an id.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from obs_schema.models.fields import Labels, Name, ObsModel, WebUrl
from obs_schema.models.instant import UtcDatetime

MAX_LINKS = 16
MAX_EXTRA_ANNOTATIONS = 32
MAX_ANNOTATION_CHARS = 4096
MAX_DESCRIPTION_CHARS = 16 * 1024

# prometheus/common model: FNV-1a 64 with 0xff after every label name and value.
_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_SEPARATOR = b"\xff"


def labelset_fingerprint(label_set: Mapping[str, str]) -> str:
    """Prometheus' `LabelSet.Fingerprint()` as Alertmanager prints it (`%016x`)."""
    digest = _FNV_OFFSET
    for key in sorted(label_set):  # code-point order is UTF-8 byte order, as Go sorts
        pair = key.encode(errors="surrogatepass") + _SEPARATOR
        pair += label_set[key].encode(errors="surrogatepass") + _SEPARATOR
        for byte in pair:
            digest = ((digest ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{digest:016x}"


def fingerprint(name: str, labels: Mapping[str, str]) -> str:
    """Stable id of an alert: 16 lower-hex digits, Alertmanager's fingerprint of the label
    set `labels` plus `alertname=name` (`name` wins over an `alertname` label)."""
    return labelset_fingerprint({**labels, "alertname": name})


class AlertSeverity(StrEnum):
    """How loud: info < warning < error < critical."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(AlertSeverity).index(self)


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


_SEVERITY_ALIASES = {"warn": "warning", "err": "error", "crit": "critical", "information": "info"}


def _severity(value: object) -> object:
    if isinstance(value, str):
        text = value.strip().lower()
        return _SEVERITY_ALIASES.get(text, text)
    return value


def _link(value: object) -> object:
    return {"url": value} if isinstance(value, str) else value


class AlertLink(ObsModel):
    """A link shown with the alert (dashboard, logs query, trace)."""

    url: WebUrl
    text: Annotated[str, StringConstraints(max_length=256)] = ""


class AlertAnnotations(ObsModel):
    """Human context. Other string annotations (as Prometheus rules carry) are kept as extras."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, str] = Field(init=False)

    summary: str = Field(default="", max_length=1024, description="One line: what is wrong.")
    description: str = Field(default="", max_length=MAX_DESCRIPTION_CHARS)
    runbook_url: WebUrl | None = Field(default=None, description="What to do about it.")
    links: list[Annotated[AlertLink, BeforeValidator(_link)]] = Field(
        default_factory=list, max_length=MAX_LINKS, description="URLs or {url, text} objects."
    )

    @model_validator(mode="after")
    def _bounded_extras(self) -> AlertAnnotations:
        extra = self.__pydantic_extra__ or {}
        if len(extra) > MAX_EXTRA_ANNOTATIONS:
            raise ValueError(f"at most {MAX_EXTRA_ANNOTATIONS} extra annotations")
        for key, value in extra.items():
            if len(key) > 128 or len(value) > MAX_ANNOTATION_CHARS:
                raise ValueError(f"annotation {key[:32]!r} is too long")
        return self


def _default_fingerprint(data: dict[str, Any]) -> str:
    # Runs after `name` and `labels` validated; if either failed, the event is rejected anyway.
    if "name" not in data:
        return ""
    return fingerprint(data["name"], data.get("labels", {}))


class AlertEvent(ObsModel):
    """One alert state change: firing, or resolved."""

    name: Name = Field(description="Alert name (Alertmanager's `alertname`).")
    severity: Annotated[AlertSeverity, BeforeValidator(_severity)] = Field(
        default=AlertSeverity.WARNING, description="`critical`, `error`, `warning` or `info`."
    )
    labels: Labels = Field(
        default_factory=dict, description="Identify the alert and drive routing, e.g. service."
    )
    annotations: AlertAnnotations = Field(default_factory=AlertAnnotations)
    source: Name = Field(default="api", description="Who raised it, e.g. `apm`, `prometheus`.")
    status: AlertStatus = Field(default=AlertStatus.FIRING)
    fingerprint: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_.:-]{1,128}$")] = Field(
        default_factory=_default_fingerprint,
        description="Deduplication key. Absent: Alertmanager's fingerprint of name + labels.",
    )
    starts_at: UtcDatetime | None = Field(default=None, description="When it began.")
    ends_at: UtcDatetime | None = Field(default=None, description="When it ended, if resolved.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "HighErrorRate",
                    "severity": "critical",
                    "labels": {"service": "api", "route": "/pitches"},
                    "annotations": {
                        "summary": "5xx above 5% for 5 minutes",
                        "runbook_url": "https://runbooks.example.com/high-error-rate",
                        "links": ["https://obs.example.com/apm?service=api"],
                    },
                    "source": "apm",
                    "status": "firing",
                    "starts_at": "2026-11-27T10:00:00Z",
                }
            ]
        }
    )

    @model_validator(mode="after")
    def _consistent(self) -> AlertEvent:
        if self.labels.get("alertname", self.name) != self.name:
            raise ValueError("labels.alertname differs from name")
        if self.starts_at and self.ends_at and self.ends_at < self.starts_at:
            raise ValueError("ends_at is before starts_at")
        return self
