"""Health: what every Worker's `GET /<prefix>/health` answers, and how statuses combine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from obs_schema import host
from obs_schema.models.fields import PRINTABLE, Name, ObsModel
from obs_schema.models.instant import UtcDatetime

MAX_COMPONENTS = 64
MAX_DETAIL_CHARS = 1024


class HealthStatus(StrEnum):
    """Overall state, best to worst."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"

    @property
    def rank(self) -> int:
        """0 healthy, 1 degraded, 2 unhealthy."""
        return list(HealthStatus).index(self)


def worst(statuses: Iterable[HealthStatus]) -> HealthStatus:
    """The worst of `statuses`; nothing to report is healthy."""
    return max(statuses, key=lambda status: status.rank, default=HealthStatus.HEALTHY)


def rollup(components: Iterable[ComponentHealth]) -> HealthStatus:
    """Overall status when some components are critical: unhealthy only if a critical one is
    unhealthy, degraded if anything else is not healthy, healthy otherwise."""
    overall = HealthStatus.HEALTHY
    for component in components:
        if component.status is HealthStatus.UNHEALTHY and component.critical:
            return HealthStatus.UNHEALTHY
        if component.status is not HealthStatus.HEALTHY:
            overall = HealthStatus.DEGRADED
    return overall


def _now() -> datetime:
    return datetime.fromtimestamp(host.now(), UTC)


ComponentName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=PRINTABLE)]
ComponentKind = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=PRINTABLE)]


class ComponentHealth(ObsModel):
    """State of one dependency: a binding (KV, R2, Durable Object), a peer Worker, a check."""

    status: HealthStatus
    latency_ms: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="Round-trip time of the probe."
    )
    detail: str | None = Field(
        default=None,
        max_length=MAX_DETAIL_CHARS,
        description="Short human-readable explanation; never a secret or a stack trace.",
    )
    kind: ComponentKind | None = Field(
        default=None, description="What the component is: `kv`, `durable_object`, `worker`..."
    )
    critical: bool = Field(
        default=False,
        description="Whether this component failing makes the whole report unhealthy "
        "(see `HealthReport.rolled_up`); other failures only degrade it.",
    )


class HealthReport(ObsModel):
    """A Worker's health: overall status plus one entry per component."""

    status: HealthStatus = Field(description="The worst component status, unless overridden.")
    worker: Name = Field(description="Which Worker answers, e.g. `logs`.")
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="Deployed version of the Worker."
    )
    time: UtcDatetime = Field(default_factory=_now, description="When it was measured.")
    components: dict[ComponentName, ComponentHealth] = Field(
        default_factory=dict,
        max_length=MAX_COMPONENTS,
        description="Per-component state, keyed by name (e.g. `kv`, `r2`, `durable_objects`).",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "degraded",
                    "worker": "logs",
                    "version": "0.1.0",
                    "time": "2026-11-27T10:00:00.000Z",
                    "components": {
                        "kv": {"status": "healthy", "latency_ms": 3.2},
                        "r2": {"status": "degraded", "latency_ms": 950.0, "detail": "slow"},
                    },
                }
            ]
        }
    )

    @classmethod
    def from_components(
        cls,
        *,
        worker: str,
        version: str,
        components: Mapping[str, ComponentHealth],
        time: datetime | None = None,
    ) -> HealthReport:
        """A report whose overall status is the worst of its components."""
        return cls(
            status=worst(component.status for component in components.values()),
            worker=worker,
            version=version,
            time=time if time is not None else _now(),
            components=dict(components),
        )

    @classmethod
    def rolled_up(
        cls,
        *,
        worker: str,
        version: str,
        components: Mapping[str, ComponentHealth],
        time: datetime | None = None,
    ) -> HealthReport:
        """A report whose overall status follows `rollup` (critical components decide)."""
        return cls(
            status=rollup(components.values()),
            worker=worker,
            version=version,
            time=time if time is not None else _now(),
            components=dict(components),
        )

    def public(self) -> HealthReport:
        """The same report without component detail, for callers without a token."""
        return self.model_copy(update={"components": {}})
