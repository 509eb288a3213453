"""MetricPoint: one sample of a named series (`POST /infra/metrics`, and OTLP after mapping).

A gauge is a current value; a counter only goes up (cumulative total, or an increment when
`temporality` is `delta`); a histogram is either one observation (`value`) or pre-aggregated
explicit buckets (`histogram`), which is what OTLP and Prometheus clients send.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from obs_schema.models.fields import Labels, ObsModel
from obs_schema.models.instant import UtcDatetime

MAX_BUCKETS = 256
# Prometheus names ([a-zA-Z_:][a-zA-Z0-9_:]*) and OpenTelemetry instrument names (which also
# allow `.`, `-` and `/`, up to 255 characters); the exposition helper sanitises on output.
METRIC_NAME = r"^[A-Za-z_:][A-Za-z0-9_:./-]{0,254}$"

MetricName = Annotated[str, StringConstraints(pattern=METRIC_NAME)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class MetricKind(StrEnum):
    GAUGE = "gauge"
    COUNTER = "counter"
    HISTOGRAM = "histogram"


class Temporality(StrEnum):
    """Whether a counter/histogram sample is a running total or the change since the last."""

    CUMULATIVE = "cumulative"
    DELTA = "delta"


class HistogramValue(ObsModel):
    """Explicit-bucket histogram, as OTLP's HistogramDataPoint.

    `counts[i]` counts observations in `(bounds[i-1], bounds[i]]`; the last count is the
    overflow bucket above the last bound, so there is one more count than bounds.
    """

    bounds: list[FiniteFloat] = Field(max_length=MAX_BUCKETS, description="Strictly increasing.")
    counts: list[Annotated[int, Field(ge=0)]] = Field(max_length=MAX_BUCKETS + 1)
    sum: FiniteFloat = Field(description="Sum of all observations.")
    count: int = Field(ge=0, description="Number of observations; equals the sum of `counts`.")
    min: FiniteFloat | None = None
    max: FiniteFloat | None = None

    @model_validator(mode="after")
    def _consistent(self) -> HistogramValue:
        if len(self.counts) != len(self.bounds) + 1:
            raise ValueError("counts must have exactly one more entry than bounds")
        if any(low >= high for low, high in zip(self.bounds, self.bounds[1:], strict=False)):
            raise ValueError("bounds must be strictly increasing")
        if sum(self.counts) != self.count:
            raise ValueError("count must equal the sum of counts")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self


class MetricPoint(ObsModel):
    """One sample of a metric series identified by `name` and `labels`."""

    name: MetricName = Field(description="Metric name, e.g. `kv_operation_seconds`.")
    kind: MetricKind = Field(description="`gauge`, `counter` or `histogram`.")
    value: FiniteFloat | None = Field(
        default=None,
        description="Gauge value, counter total/increment, or one histogram observation.",
    )
    histogram: HistogramValue | None = Field(
        default=None, description="Pre-aggregated buckets; only for `kind: histogram`."
    )
    temporality: Temporality = Field(
        default=Temporality.CUMULATIVE, description="For counters and bucket histograms."
    )
    labels: Labels = Field(default_factory=dict, description="At most 64 string labels.")
    unit: Annotated[str, StringConstraints(max_length=63)] = Field(
        default="", description="UCUM unit as OpenTelemetry sends it, e.g. `s`, `By`, `1`."
    )
    timestamp: UtcDatetime | None = Field(
        default=None, description="When it was measured. Absent: the time it was received."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "kv_reads_total",
                    "kind": "counter",
                    "value": 1042,
                    "labels": {"ns": "CONFIG"},
                },
                {"name": "queue_depth", "kind": "gauge", "value": 7, "timestamp": 1795773600000},
            ]
        }
    )

    @model_validator(mode="after")
    def _value_fits_kind(self) -> MetricPoint:
        if self.kind is MetricKind.HISTOGRAM:
            if (self.value is None) == (self.histogram is None):
                raise ValueError("a histogram needs exactly one of value or histogram")
        elif self.histogram is not None:
            raise ValueError(
                f"histogram buckets are only allowed for kind histogram, not {self.kind}"
            )
        elif self.value is None:
            raise ValueError(f"a {self.kind} needs a value")
        elif self.kind is MetricKind.COUNTER and self.value < 0:
            raise ValueError("a counter never goes down: value must be >= 0")
        return self
