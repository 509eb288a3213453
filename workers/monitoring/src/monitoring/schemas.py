"""The check definition as the API takes it: one model per check type, validated with clear
per-field errors (422), documented in the OpenAPI schema.

Durations accept seconds (`60`) or units (`"5m"`). Rules beyond field types: interval at least
30 s (heartbeats: the expected period, up to 30 days), timeout and retry interval shorter than
the interval, URL schemes per type. Whether a target may be private is decided per deployment
in the routes (`targets.py`), since it depends on the environment.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from monitoring import jsonfield
from monitoring.maintenance import WEEKDAYS
from obs_schema.models.alert import AlertSeverity
from obs_schema.models.fields import PRINTABLE, Labels
from obs_schema.timespec import TimeSpecError, parse_duration, parse_instant

MIN_INTERVAL_S = 30.0
MAX_INTERVAL_S = 86_400.0
MAX_HEARTBEAT_INTERVAL_S = 30 * 86_400.0
SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"


def _seconds(value: object) -> object:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            return parse_duration(value)
        except TimeSpecError as error:
            raise ValueError(str(error)) from None
    return value


Seconds = Annotated[float, BeforeValidator(_seconds), Field(ge=0, allow_inf_nan=False)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=PRINTABLE)]
Slug = Annotated[str, StringConstraints(pattern=SLUG)]


class Strict(BaseModel):
    # Configuration is typed by people: an unknown field is a typo worth a 422, not silence.
    model_config = ConfigDict(extra="forbid")


class MaintenanceWindow(Strict):
    """One-off (`start`, `end`) or weekly (`days`, `at`, `duration`), in UTC."""

    start: str | None = Field(default=None, description="RFC 3339 start of a one-off window.")
    end: str | None = Field(default=None, description="RFC 3339 end of a one-off window.")
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] | None = None
    at: Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] | None = None
    duration: Seconds | None = Field(default=None, le=86_400)
    reason: Annotated[str, StringConstraints(max_length=256)] = ""

    @model_validator(mode="after")
    def _one_shape(self) -> MaintenanceWindow:
        if self.start is not None or self.end is not None:
            if self.start is None or self.end is None or self.days or self.at or self.duration:
                raise ValueError("a one-off window has exactly start and end")
            start, end = _instant(self.start), _instant(self.end)
            if end <= start:
                raise ValueError("end must be after start")
            return self
        if self.at is None or not self.duration:
            raise ValueError("give start and end, or at and duration (with optional days)")
        self.days = sorted(set(self.days or WEEKDAYS), key=WEEKDAYS.index)  # type: ignore[arg-type]
        return self


def _instant(value: str) -> float:
    try:
        return parse_instant(value, 0)
    except TimeSpecError as error:
        raise ValueError(str(error)) from None


class JsonAssertion(Strict):
    path: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    op: Literal["eq", "ne", "contains", "exists", "lt", "gt"] = "eq"
    value: Any = None

    @field_validator("path")
    @classmethod
    def _parses(cls, path: str) -> str:
        jsonfield.parse_path(path)  # PathError is a ValueError: a 422
        return path


class CheckBase(Strict):
    id: Slug | None = Field(default=None, description="Slug; derived from the name if absent.")
    name: Text
    description: Annotated[str, StringConstraints(max_length=1024)] = ""
    group: Text | None = Field(default=None, description="Status page component group.")
    interval: Seconds = Field(default=60.0, description="Seconds between runs (≥ 30).")
    timeout: Seconds = Field(default=10.0, description="Seconds an attempt may take.")
    confirmations: int = Field(default=2, ge=1, le=10, description="Failures before down.")
    retry_interval: Seconds = Field(default=5.0, description="Seconds before a confirming retry.")
    degraded_latency_ms: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    enabled: bool = True
    public: bool = Field(default=True, description="Shown on the public status page.")
    severity: AlertSeverity = AlertSeverity.CRITICAL
    labels: Labels = Field(default_factory=dict)
    slo_target: float = Field(default=99.9, ge=0, le=100, description="Monthly uptime goal, %.")
    maintenance: list[MaintenanceWindow] = Field(default_factory=list, max_length=32)

    @model_validator(mode="after")
    def _timing(self) -> CheckBase:
        limit = MAX_HEARTBEAT_INTERVAL_S if self.type_name == "heartbeat" else MAX_INTERVAL_S
        if self.interval < MIN_INTERVAL_S:
            raise ValueError(f"interval must be at least {MIN_INTERVAL_S:g} s")
        if self.interval > limit:
            raise ValueError(f"interval must be at most {limit:g} s")
        if self.timeout <= 0 or self.timeout >= self.interval:
            raise ValueError("timeout must be more than 0 and less than the interval")
        if not 0 < self.retry_interval < self.interval:
            raise ValueError("retry_interval must be more than 0 and less than the interval")
        return self

    @property
    def type_name(self) -> str:
        return str(getattr(self, "type", ""))


def _scheme(schemes: tuple[str, ...]) -> AfterValidator:
    def check(url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in schemes:
            raise ValueError(f"the URL scheme must be {' or '.join(schemes)}")
        if not parts.hostname or any(c.isspace() for c in url):
            raise ValueError("the URL needs a host and no spaces")
        return url

    return AfterValidator(check)


HttpUrlText = Annotated[str, StringConstraints(max_length=2048), _scheme(("http", "https"))]
WsUrlText = Annotated[str, StringConstraints(max_length=2048), _scheme(("ws", "wss"))]
StatusCode = Annotated[str, StringConstraints(pattern=r"^[1-5][0-9]{2}(-[1-5][0-9]{2})?$")]
HeaderName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")]
HeaderValue = Annotated[str, StringConstraints(max_length=4096, pattern=r"^[^\r\n\x00]*$")]


def _default_accepted() -> list[int | str]:
    return ["200-299"]


class HttpCheck(CheckBase):
    type: Literal["http"]
    url: HttpUrlText
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, max_length=32)
    body: Annotated[str, StringConstraints(max_length=65_536)] | None = None
    accepted_status: list[int | StatusCode] = Field(
        default_factory=_default_accepted, max_length=32
    )
    keyword: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None
    keyword_absent: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None
    json_assert: JsonAssertion | None = None
    max_latency_ms: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    follow_redirects: bool = True
    verify_tls: bool = True


class WebSocketCheck(CheckBase):
    type: Literal["websocket"]
    url: WsUrlText
    send: Annotated[str, StringConstraints(max_length=4096)] | None = None
    expect: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None


class TcpCheck(CheckBase):
    type: Literal["tcp"]
    host: Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=r"^[^\s/]+$")]
    port: int = Field(ge=1, le=65535)


class DnsCheck(CheckBase):
    type: Literal["dns"]
    name: Text  # the check's display name stays `name`; the query name is `query`
    query: Annotated[
        str,
        StringConstraints(
            max_length=253, pattern=r"^([A-Za-z0-9_-]{1,63}\.)*[A-Za-z0-9_-]{1,63}\.?$"
        ),
    ]
    record_type: Literal["A", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "AAAA", "SRV", "CAA"] = "A"
    expected: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None
    resolver: HttpUrlText | None = Field(default=None, description="DoH JSON endpoint.")


class DatabaseCheck(CheckBase):
    type: Literal["database"]
    url: HttpUrlText | None = Field(default=None, description="The database's health endpoint.")
    binding: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,63}$")] | None = None
    json_assert: JsonAssertion | None = None

    @model_validator(mode="after")
    def _one_target(self) -> DatabaseCheck:
        if (self.url is None) == (self.binding is None):
            raise ValueError("give exactly one of url and binding")
        return self


class HeartbeatCheck(CheckBase):
    type: Literal["heartbeat"]
    grace: Seconds = Field(default=60.0, le=86_400, description="How late a beat may be.")
    timeout: Seconds = 10.0  # unused: a heartbeat waits, it does not probe


class InternalCheck(CheckBase):
    type: Literal["internal"]
    target: Literal["kv", "r2", "durable_object", "service"]
    worker: Literal["logs", "apm", "infra", "alerting", "security"] | None = None
    public: bool = False

    @model_validator(mode="after")
    def _worker(self) -> InternalCheck:
        if (self.target == "service") != (self.worker is not None):
            raise ValueError("worker is required for target service, and only for it")
        return self


CheckIn = Annotated[
    HttpCheck
    | WebSocketCheck
    | TcpCheck
    | DnsCheck
    | DatabaseCheck
    | HeartbeatCheck
    | InternalCheck,
    Field(discriminator="type"),
]


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:56]
    return slug or "check"
