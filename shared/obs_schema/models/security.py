"""SecurityEvent: one detection or enforcement decision of the security Worker."""

from __future__ import annotations

import functools
import ipaddress
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from obs_schema import host
from obs_schema.models.fields import PRINTABLE, Name, ObsModel
from obs_schema.models.instant import UtcDatetime
from obs_schema.models.jsonobject import JsonObject

MAX_ROUTE_CHARS = 1024
MAX_SCORE = 10_000.0
EVENT_TYPES = (
    "sqli",
    "xss",
    "path_traversal",
    "command_injection",
    "ssrf",
    "scanner",
    "protocol_anomaly",
    "rate_limit",
    "credential_stuffing",
    "enumeration",
    "request_spike",
    "scanning",
    "new_location",
    "impossible_travel",
    "blocklist",
)
"""The types the security Worker emits today; the field accepts any lower-case slug."""


class SecurityAction(StrEnum):
    """What was done, mildest first."""

    ALLOW = "allow"
    CHALLENGE = "challenge"
    RATE_LIMITED = "rate_limited"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return list(SecurityAction).index(self)


@functools.lru_cache(maxsize=8192)  # every check and event names one; sources repeat
def _canonical_ip(value: str) -> str:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        raise ValueError("expected an IPv4 or IPv6 address") from None
    # An IPv4 client seen through an IPv6 socket is still that IPv4 client: one key per source.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


IpAddress = Annotated[
    str, StringConstraints(min_length=2, max_length=64), AfterValidator(_canonical_ip)
]
"""An IPv4 or IPv6 address, stored in canonical (compressed, lower-case) form."""

EventType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
Route = Annotated[str, StringConstraints(max_length=MAX_ROUTE_CHARS, pattern=PRINTABLE)]


def _now() -> datetime:
    return datetime.fromtimestamp(host.now(), UTC)


class SecurityEvent(ObsModel):
    """A detection (threat, anomaly, rate-limit hit) and the action taken on it."""

    type: EventType = Field(description=f"Kind of detection, e.g. {', '.join(EVENT_TYPES[:5])}.")
    ip: IpAddress = Field(description="Client address, canonical form.")
    user_id: Name | None = Field(default=None, description="Authenticated user, if any.")
    route: Route | None = Field(default=None, description="Route or path the request hit.")
    score: float = Field(
        default=0.0,
        ge=0,
        le=MAX_SCORE,
        allow_inf_nan=False,
        description="Anomaly score, OWASP CRS style (higher is more hostile).",
    )
    action: SecurityAction = Field(description="`allow`, `challenge`, `rate_limited` or `block`.")
    evidence: JsonObject = Field(
        default_factory=dict,
        description="Why: matched rule, location, scrubbed excerpt. Never raw personal data.",
    )
    time: UtcDatetime = Field(default_factory=_now, description="When it was detected.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "sqli",
                    "ip": "203.0.113.7",
                    "route": "/api/pitches",
                    "score": 15,
                    "action": "block",
                    "evidence": {"location": "query.q", "rule": "942100", "excerpt": "' OR 1=1--"},
                    "time": "2026-11-27T10:00:00.000Z",
                }
            ]
        }
    )
