"""OTLP and native JSON points into a `Batch` (what each kind of point becomes when stored).

- gauge: a gauge series (last value per minute).
- monotonic sum: a counter; cumulative sums become increments in the shard, deltas add up.
- non-monotonic sum: cumulative is a gauge (an up-down counter's current value); delta adds up.
- histogram / exponential histogram: a histogram family (`_count`, `_sum`, `_bucket{le}`).
- summary: `name{quantile=...}` gauges plus `name_count` and `name_sum` counters.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from infra.samples import Batch, exponential_buckets
from obs_schema.otlp.metrics import OtlpPoint

DELTA = 1


def add_otlp(batch: Batch, points: Iterable[OtlpPoint]) -> None:
    for p in points:
        t_ms, start_ms = p.time_ns // 1_000_000, p.start_ns // 1_000_000
        cumulative = p.temporality != DELTA
        if p.type == "gauge" and p.value is not None:
            batch.number(p.name, p.labels, t_ms, p.value, counter=False, unit=p.unit)
        elif p.type == "sum" and p.value is not None:
            if p.monotonic or not cumulative:
                batch.number(p.name, p.labels, t_ms, p.value, counter=True,
                             cumulative=cumulative, start_ms=start_ms, unit=p.unit)  # fmt: skip
            else:
                batch.number(p.name, p.labels, t_ms, p.value, counter=False, unit=p.unit)
        elif p.type == "histogram":
            buckets: list[tuple[float, float]] = list(
                zip([*p.bounds, math.inf], map(float, p.counts), strict=True)
            )
            batch.histogram(p.name, p.labels, t_ms, p.count, p.sum or 0.0, buckets,
                            cumulative=cumulative, start_ms=start_ms, unit=p.unit)  # fmt: skip
        elif p.type == "exponential_histogram":
            buckets = exponential_buckets(
                p.scale, p.zero_count, p.zero_threshold, p.positive, p.negative
            )
            batch.histogram(p.name, p.labels, t_ms, p.count, p.sum or 0.0, buckets,
                            cumulative=cumulative, start_ms=start_ms, unit=p.unit,
                            grid=True)  # fmt: skip
        elif p.type == "summary":
            _summary(batch, p, t_ms, start_ms)


def _summary(batch: Batch, p: OtlpPoint, t_ms: int, start_ms: int) -> None:
    for q, value in p.quantiles:
        labels = {**p.labels, "quantile": repr(q)}
        batch.number(p.name, labels, t_ms, value, counter=False, unit=p.unit)
    for suffix, value in (("_count", float(p.count)), ("_sum", p.sum or 0.0)):
        batch.number(p.name + suffix, p.labels, t_ms, value, counter=True, cumulative=True,
                     start_ms=start_ms, unit=p.unit)  # fmt: skip


def add_native(batch: Batch, point: Any, now_ms: int) -> None:
    """One validated `obs_schema.models.metric.MetricPoint`."""
    t_ms = int(point.timestamp.timestamp() * 1000) if point.timestamp else now_ms
    cumulative = point.temporality.value == "cumulative"
    kind = point.kind.value
    if kind == "gauge":
        batch.number(point.name, point.labels, t_ms, point.value, counter=False, unit=point.unit)
    elif kind == "counter":
        batch.number(point.name, point.labels, t_ms, point.value, counter=True,
                     cumulative=cumulative, unit=point.unit)  # fmt: skip
    elif point.histogram is None:
        batch.observation(point.name, point.labels, t_ms, point.value, unit=point.unit)
    else:
        h = point.histogram
        buckets = list(zip([*h.bounds, math.inf], h.counts, strict=True))
        batch.histogram(point.name, point.labels, t_ms, h.count, h.sum, buckets,
                        cumulative=cumulative, unit=point.unit)  # fmt: skip
