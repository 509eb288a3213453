"""WebVital: one Core Web Vitals report from Google's `web-vitals` v5/v6 in a browser beacon.

Field names on the wire are web-vitals' own (`navigationType`, `navigationId`), so a beacon can
send `JSON.stringify(metric)` minus `entries`; unknown fields (`entries`, v6's extra navigation
fields) are ignored. FID is refused: web-vitals removed it in v5 (INP replaced it).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from obs_schema.models.fields import ObsModel, WebUrl
from obs_schema.models.jsonobject import JsonObject

MAX_MS = 3_600_000.0  # an hour: no real page load or interaction takes longer
MAX_CLS = 100.0


class VitalName(StrEnum):
    LCP = "LCP"
    INP = "INP"
    CLS = "CLS"
    FCP = "FCP"
    TTFB = "TTFB"


class VitalRating(StrEnum):
    GOOD = "good"
    NEEDS_IMPROVEMENT = "needs-improvement"
    POOR = "poor"


class NavigationType(StrEnum):
    NAVIGATE = "navigate"
    RELOAD = "reload"
    BACK_FORWARD = "back-forward"
    BACK_FORWARD_CACHE = "back-forward-cache"
    PRERENDER = "prerender"
    RESTORE = "restore"
    SOFT_NAVIGATION = "soft-navigation"


# web-vitals' exported thresholds: good <= first, poor > second.
THRESHOLDS: dict[VitalName, tuple[float, float]] = {
    VitalName.LCP: (2500, 4000),
    VitalName.INP: (200, 500),
    VitalName.CLS: (0.1, 0.25),
    VitalName.FCP: (1800, 3000),
    VitalName.TTFB: (800, 1800),
}

REMOVED_METRICS = {
    "FID": (
        "FID (First Input Delay) was removed from web-vitals in v5 and is no longer a Core Web "
        "Vital; report INP (Interaction to Next Paint) instead"
    ),
}
"""Metric names old beacons still send; an ingest may check this to drop them quietly."""


def rate(name: VitalName, value: float) -> VitalRating:
    """The rating web-vitals gives `value` for metric `name`."""
    good, poor = THRESHOLDS[name]
    if value <= good:
        return VitalRating.GOOD
    return VitalRating.NEEDS_IMPROVEMENT if value <= poor else VitalRating.POOR


def _metric_name(value: object) -> object:
    if not isinstance(value, str):
        return value
    name = value.strip().upper()
    if name in REMOVED_METRICS:
        raise ValueError(REMOVED_METRICS[name])
    return name


def _default_rating(data: dict[str, Any]) -> VitalRating:
    if "name" not in data or "value" not in data:
        return VitalRating.GOOD  # never used: the report is rejected for the missing field
    return rate(data["name"], data["value"])


def _default_delta(data: dict[str, Any]) -> float:
    value = data.get("value", 0.0)
    return float(value)


class WebVital(ObsModel):
    """A web-vitals metric object as the beacon sends it."""

    name: Annotated[VitalName, BeforeValidator(_metric_name)] = Field(
        description="`LCP`, `INP`, `CLS`, `FCP` or `TTFB`. `FID` is rejected (removed in v5)."
    )
    value: float = Field(
        ge=0,
        allow_inf_nan=False,
        description="Milliseconds, except CLS (unitless layout-shift score).",
    )
    rating: VitalRating = Field(
        default_factory=_default_rating,
        description="`good`, `needs-improvement` or `poor`; absent: web-vitals' thresholds.",
    )
    delta: float = Field(
        default_factory=_default_delta,
        allow_inf_nan=False,
        description="Change since this metric's previous report (equals `value` on the first).",
    )
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,128}$")] = Field(
        description="Unique per metric instance, e.g. `v6-1724150400000-1234567890123`."
    )
    navigation_type: NavigationType = Field(
        default=NavigationType.NAVIGATE,
        alias="navigationType",
        description="How the page was reached.",
    )
    navigation_id: int | None = Field(
        default=None, ge=0, alias="navigationId", description="v6: which (soft) navigation."
    )
    url: WebUrl | None = Field(
        default=None,
        validation_alias=AliasChoices("url", "navigationURL", "navigation_url"),
        description="Page URL (v6 `navigationURL`, else `location.href`).",
    )
    attribution: JsonObject | None = Field(
        default=None, description="Selected scalar fields of the attribution build, if sent."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "LCP",
                    "value": 2150.4,
                    "rating": "good",
                    "delta": 2150.4,
                    "id": "v6-1724150400000-1234567890123",
                    "navigationType": "navigate",
                    "url": "https://pitchey.example.com/pitches/42",
                    "attribution": {"target": "#hero img", "timeToFirstByte": 310.2},
                }
            ]
        }
    )

    @model_validator(mode="after")
    def _plausible_value(self) -> WebVital:
        limit = MAX_CLS if self.name is VitalName.CLS else MAX_MS
        if self.value > limit:
            unit = "" if self.name is VitalName.CLS else " ms"
            raise ValueError(f"{self.name} value {self.value:g} is above {limit:g}{unit}")
        return self
