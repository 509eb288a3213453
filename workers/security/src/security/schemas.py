"""Request and response models of the security API (validation and the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from obs_schema.models.fields import Name
from obs_schema.models.security import IpAddress, SecurityAction
from security.limit.rules import KEY_COMPONENTS, MAX_EXACT_LIMIT

MAX_BODY_CHARS = 64 * 1024  # the caller sends a truncated body; we inspect at most this much
Method = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[!-~]+$")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True)]
RuleId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CheckRequest(_Model):
    """A request Pitchey's API received, as its Worker saw it."""

    ip: IpAddress
    method: Method = "GET"
    path: Annotated[str, StringConstraints(max_length=16 * 1024)] = "/"
    query: Annotated[str, StringConstraints(max_length=32 * 1024)] = ""
    headers: dict[str, str] | list[Annotated[list[str], Field(min_length=2, max_length=2)]] = Field(
        default_factory=dict, description="Object, or [name, value] pairs to keep repeats."
    )
    body: str = Field(default="", description="Request body, truncated by the caller.")
    user_id: Name | None = None
    route: Annotated[str, StringConstraints(max_length=1024)] | None = Field(
        default=None, description="Route template (`/api/pitches/{id}`); the path if absent."
    )
    country: Country | None = None
    asn: Annotated[int, Field(ge=0, le=4_294_967_295)] | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None

    @field_validator("headers")
    @classmethod
    def _bounded_headers(cls, value: Any) -> Any:
        if len(value) > 500:
            raise ValueError("at most 500 headers")
        return value

    @field_validator("body")
    @classmethod
    def _truncate(cls, value: str) -> str:
        return value[:MAX_BODY_CHARS]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ip": "203.0.113.7",
                    "method": "GET",
                    "path": "/api/pitches",
                    "query": "q=1'%20OR%201=1--",
                    "headers": {"user-agent": "Mozilla/5.0"},
                    "route": "/api/pitches",
                    "country": "GB",
                    "asn": 64500,
                }
            ]
        }
    )


class ThreatOut(_Model):
    type: str
    location: str
    rule: str
    score: int
    evidence: str


class RateLimitOut(_Model):
    limit: int
    remaining: int
    reset_s: int
    rule: str | None = None


class CheckResponse(_Model):
    action: SecurityAction
    score: int = Field(description="Anomaly score of the request (OWASP CRS style).")
    reasons: list[str]
    threats: list[ThreatOut]
    rate_limit: RateLimitOut | None
    headers: dict[str, str] = Field(description="Headers the caller should send back.")
    anomalies: list[dict[str, Any]] = Field(default_factory=list)
    incident: str | None = None


class Login(_Model):
    account: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    success: bool


class Outcome(_Model):
    """What Pitchey answered: feeds 4xx-burst and credential-stuffing detection."""

    ip: IpAddress
    status: Annotated[int, Field(ge=100, le=599)]
    method: Method = "GET"
    path: Annotated[str, StringConstraints(max_length=16 * 1024)] = "/"
    route: Annotated[str, StringConstraints(max_length=1024)] | None = None
    user_id: Name | None = None
    login: Login | None = Field(default=None, description="Set on login attempts.")


class OutcomeBatch(_Model):
    outcomes: Annotated[list[dict[str, Any]], Field(max_length=1000)]


class BatchResult(_Model):
    accepted: int
    rejected: list[dict[str, Any]]
    anomalies: list[dict[str, Any]] = Field(default_factory=list)


class LimitRuleIn(_Model):
    model_config = ConfigDict(extra="forbid")
    id: RuleId
    key: Annotated[list[str], Field(min_length=1, max_length=4)] = Field(
        description=f"Components: {', '.join(KEY_COMPONENTS)}, or header:<name>."
    )
    limit: Annotated[int, Field(ge=1, le=10_000_000)]
    window_s: Annotated[int, Field(ge=1, le=86_400)]
    mode: Literal["sliding_window", "exact"] = "sliding_window"
    routes: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=256)]], Field(max_length=64)
    ] = Field(default_factory=list)
    methods: Annotated[list[Method], Field(max_length=16)] = Field(default_factory=list)

    @field_validator("key")
    @classmethod
    def _components(cls, value: list[str]) -> list[str]:
        for part in value:
            if part not in KEY_COMPONENTS and not (part.startswith("header:") and len(part) > 7):
                raise ValueError(f"unknown key component {part!r}")
        return value

    @model_validator(mode="after")
    def _exact_is_small(self) -> LimitRuleIn:
        if self.mode == "exact" and self.limit > MAX_EXACT_LIMIT:
            raise ValueError(f"exact mode is for limits up to {MAX_EXACT_LIMIT}")
        return self


class DetectionIn(_Model):
    model_config = ConfigDict(extra="forbid")
    paranoia: Annotated[int, Field(ge=1, le=4)] = 1
    challenge_score: Annotated[int, Field(ge=1, le=1000)] = 3
    block_score: Annotated[int, Field(ge=1, le=1000)] = 5
    disabled_rules: Annotated[list[RuleId], Field(max_length=200)] = Field(default_factory=list)


class ResponseIn(_Model):
    model_config = ConfigDict(extra="forbid")
    auto_block: bool = True
    block_ttl_s: Annotated[int, Field(ge=60, le=30 * 86_400)] = 3600
    alert_score: Annotated[float, Field(gt=0, le=100_000)] = 15.0
    block_score: Annotated[float, Field(gt=0, le=100_000)] = 25.0
    gap_s: Annotated[int, Field(ge=60, le=7 * 86_400)] = 1800
    half_life_s: Annotated[int, Field(ge=60, le=30 * 86_400)] = 3600


class AnomalyIn(_Model):
    model_config = ConfigDict(extra="forbid")
    spike_k: Annotated[float, Field(gt=0, le=100)] = 6.0
    spike_floor: Annotated[int, Field(ge=1)] = 120
    min_samples: Annotated[int, Field(ge=1, le=60)] = 10
    scan_floor: Annotated[int, Field(ge=1)] = 20
    scan_ratio: Annotated[float, Field(ge=0, le=1)] = 0.5
    stuffing_accounts: Annotated[int, Field(ge=2, le=10_000)] = 10
    stuffing_sources: Annotated[int, Field(ge=2, le=10_000)] = 10
    login_window_s: Annotated[int, Field(ge=60, le=86_400)] = 600
    enumeration_ids: Annotated[int, Field(ge=3, le=10_000)] = 20
    enumeration_window_s: Annotated[int, Field(ge=10, le=86_400)] = 300
    sequential_share: Annotated[float, Field(gt=0, le=1)] = 0.8
    location_min_samples: Annotated[int, Field(ge=1, le=10_000)] = 5
    travel_kmh: Annotated[float, Field(gt=0)] = 1000.0
    travel_min_km: Annotated[float, Field(ge=0)] = 500.0
    cooldown_s: Annotated[int, Field(ge=0, le=86_400)] = 600


class PolicyIn(_Model):
    """The whole policy; PUT replaces it (omitted sections take their defaults)."""

    model_config = ConfigDict(extra="forbid")
    rate_limits: Annotated[list[LimitRuleIn], Field(max_length=64)] = Field(default_factory=list)
    detection: DetectionIn = Field(default_factory=DetectionIn)
    response: ResponseIn = Field(default_factory=ResponseIn)
    anomaly: AnomalyIn = Field(default_factory=AnomalyIn)

    @field_validator("rate_limits")
    @classmethod
    def _unique(cls, value: list[LimitRuleIn]) -> list[LimitRuleIn]:
        ids = [r.id for r in value]
        if len(ids) != len(set(ids)):
            raise ValueError("rate-limit rule ids must be unique")
        return value


class PolicyOut(PolicyIn):
    model_config = ConfigDict(extra="ignore")
    version: int = 0


class BlockIn(_Model):
    model_config = ConfigDict(extra="forbid")
    target: Annotated[str, StringConstraints(min_length=2, max_length=64)] = Field(
        description="IP address or CIDR prefix."
    )
    kind: Literal["block", "allow"] = "block"
    reason: Annotated[str, StringConstraints(max_length=500)] = ""
    ttl_s: Annotated[int, Field(ge=60, le=365 * 86_400)] | None = Field(
        default=None, description="Seconds until it lapses; absent = until removed."
    )


class BlockOut(_Model):
    id: str
    target: str
    kind: str
    source: str
    reason: str
    created_at: str
    expires_at: str | None
    incident: str | None
    actor: str
    active: bool


class AuditOut(_Model):
    id: str
    time: str
    actor: str
    action: str
    target: str
    reason: str
    block: str | None
    detail: dict[str, Any]
    undone_by: str | None


class EventOut(_Model):
    id: str
    time: str
    type: str
    ip: str
    user_id: str | None
    route: str | None
    score: float
    action: str
    evidence: dict[str, Any]
    incident: str | None


class IncidentOut(_Model):
    id: str
    ip: str
    status: str
    score: float
    opened_at: str
    updated_at: str
    types: dict[str, int]
    events: int
    alerted: bool
    blocked: bool
    users: list[str]


class Page(_Model):
    cursor: str | None = Field(description="Pass back as `cursor` for the next page.")


class EventPage(Page):
    events: list[EventOut]


class IncidentPage(Page):
    incidents: list[IncidentOut]


class AuditPage(Page):
    entries: list[AuditOut]


class BlocklistOut(_Model):
    name: str
    entries: int
    rejected_lines: int


class IncidentDetail(IncidentOut):
    event_list: list[EventOut]


class BlockList(_Model):
    blocks: list[BlockOut]


class BlockChange(_Model):
    block: BlockOut
    audit: AuditOut


class BlocklistsOut(_Model):
    lists: list[BlocklistOut]
    networks: int
    loaded_at: str | None


class BlocklistChange(_Model):
    lists: list[BlocklistOut]
