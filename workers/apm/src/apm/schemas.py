"""Request bodies of the APM's configuration routes (validated; unknown fields ignored)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from obs_schema.models.fields import Name, ObsModel

RuleId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]


class SamplingConfig(ObsModel):
    """Tail sampling: errors and slow traces are always kept; `keep_fraction` of the rest."""

    keep_fraction: float = Field(default=1.0, ge=0.0, le=1.0)
    latency_ms: float = Field(default=1000.0, gt=0.0, le=3_600_000.0)
    decision_wait_s: float = Field(
        default=60.0, ge=0.0, le=3600.0, description="Quiet time before a trace is decided."
    )


class ApmConfig(ObsModel):
    apdex_t_ms: float = Field(default=500.0, gt=0.0, le=60_000.0, description="Apdex T in ms.")
    n_plus_one_min: int = Field(
        default=5, ge=3, le=10_000, description="Repeats of one statement in a trace for N+1."
    )
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)


class ThresholdRule(ObsModel):
    """`p95`/`p99` above ms, `error_rate` above percent, `apdex` below score, `no_traffic`
    for `threshold` minutes; for one service, or one service and route."""

    id: RuleId
    service: Name
    route: Name | None = None
    metric: Literal["p95", "p99", "error_rate", "apdex", "no_traffic"]
    threshold: float = Field(ge=0.0, le=1e9)
    window_minutes: int = Field(default=5, ge=1, le=1440)
    min_requests: int = Field(default=1, ge=1, le=1_000_000)
    severity: Literal["info", "warning", "error", "critical"] = "warning"

    @model_validator(mode="after")
    def _sensible(self) -> ThresholdRule:
        if self.metric == "apdex" and self.threshold > 1:
            raise ValueError("an apdex threshold is a score between 0 and 1")
        if self.metric == "no_traffic" and not 1 <= self.threshold <= 1440:
            raise ValueError("a no_traffic threshold is a number of minutes, 1 to 1440")
        return self


class Thresholds(ObsModel):
    rules: list[ThresholdRule] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _unique(self) -> Thresholds:
        ids = [rule.id for rule in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("rule ids must be unique")
        return self
