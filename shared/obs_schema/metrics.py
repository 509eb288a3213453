"""In-memory metrics: counters, gauges and histograms with declared labels, in a registry.

Modelled on prometheus client_python's `registry.py` and `metrics.py`, cut down for Workers:
no locks (an isolate runs one event loop on one thread) and no global default registry (each
Worker builds its own, so tests never share state). Names and labels are checked when a metric
is created against the rules `promtool check metrics` lints, so a bad name fails in the first
unit test instead of in a CI scrape. `Registry.collect()` returns plain dataclasses that
`exposition.py` renders; nothing here formats text.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise
from typing import Any, ClassVar, Generic, Literal, TypeVar

MetricType = Literal["counter", "gauge", "histogram"]

# client_python's defaults: request latencies in seconds, 5 ms to 10 s.
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)

_NAME = re.compile(r"[a-z_][a-z0-9_]*")
# promlint's unit tables: non-base units (after an SI prefix or not) and abbreviations.
_BASE_UNITS = {"amperes", "bytes", "celsius", "grams", "joules", "kelvin", "meters", "metres"}
_BASE_UNITS |= {"seconds", "volts"}
_OTHER_UNITS = {"minutes", "hours", "days", "weeks", "kelvins", "fahrenheit", "rankine"}
_OTHER_UNITS |= {"inches", "yards", "miles", "bits", "calories", "pounds", "ounces"}
_PREFIXES = {"pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi"}
_PREFIXES |= {"mega", "mebi", "giga", "gibi", "tera", "tebi", "peta", "pebi"}
_ABBREVIATIONS = {"s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d"}
_RESERVED_SUFFIXES = ("_bucket", "_count", "_sum")
_RESERVED_LABELS = {"le", "quantile"}


class MetricsError(ValueError):
    """A metric was declared or used in a way Prometheus would reject or lint."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One counter or gauge series."""

    labels: dict[str, str]
    value: float


@dataclass(frozen=True, slots=True)
class HistogramSample:
    """One histogram series: cumulative `(upper bound, count)` pairs ending at `+Inf`."""

    labels: dict[str, str]
    buckets: tuple[tuple[float, int], ...]
    sum: float
    count: int


@dataclass(frozen=True, slots=True)
class MetricFamily:
    """Every series of one metric, sorted by label values."""

    name: str
    type: MetricType
    help: str
    samples: tuple[Sample | HistogramSample, ...]


def _is_non_base_unit(segment: str) -> bool:
    """`minutes`, `bits`, or any unit after an SI prefix (`milliseconds`, `kilobytes`)."""
    units = _BASE_UNITS | _OTHER_UNITS
    prefixed = (segment[len(p) :] for p in _PREFIXES if segment.startswith(p))
    return segment in _OTHER_UNITS or any(rest in units for rest in prefixed)


def _name_problem(name: str, kind: MetricType) -> str | None:
    """The first promlint rule `name` breaks, if any.

    Stricter than promlint in one place: histograms may not end in _bucket/_count/_sum either,
    since `x_count_count` reads as a mistake to anyone querying it.
    """
    segments = name.split("_")
    problems = {
        "must be snake_case ASCII: [a-z_][a-z0-9_]*": not _NAME.fullmatch(name),
        "must not start with '__' (reserved)": name.startswith("__"),
        "counters must end in '_total'": kind == "counter" and not name.endswith("_total"),
        "only counters end in '_total'": kind != "counter" and name.endswith("_total"),
        "only gauges end in '_timestamp_seconds'": kind != "gauge"
        and name.endswith("_timestamp_seconds"),
        "must not end in _bucket, _count or _sum": name.endswith(_RESERVED_SUFFIXES),
        f"must not include its type '{kind}'": kind in segments[1:],
        "must use base units (seconds, bytes...)": any(map(_is_non_base_unit, segments)),
        "must not abbreviate units": any(s in _ABBREVIATIONS for s in segments[1:]),
    }
    return next((problem for problem, found in problems.items() if found), None)


def _check_labelnames(name: str, labelnames: Sequence[str]) -> tuple[str, ...]:
    if isinstance(labelnames, str):
        raise MetricsError(f"{name}: labelnames must be a sequence of names, not a string")
    for label in labelnames:
        if not _NAME.fullmatch(label) or label.startswith("__") or label in _RESERVED_LABELS:
            raise MetricsError(f"{name}: label name {label!r} is invalid or reserved")
    if len(set(labelnames)) != len(labelnames):
        raise MetricsError(f"{name}: label names {list(labelnames)} repeat")
    return tuple(labelnames)


class CounterChild:
    """One counter series; it only goes up."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        if not amount >= 0:  # also catches NaN
            raise MetricsError(f"counters only go up; cannot add {amount!r}")
        self.value += amount

    def sample(self, labels: dict[str, str]) -> Sample:
        return Sample(labels, self.value)


class GaugeChild:
    """One gauge series; any value, including NaN and infinities."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def dec(self, amount: float = 1.0) -> None:
        self.value -= amount

    def set(self, value: float) -> None:
        self.value = float(value)

    def sample(self, labels: dict[str, str]) -> Sample:
        return Sample(labels, self.value)


class HistogramChild:
    """One histogram series: a count per bucket (not cumulative until collected)."""

    __slots__ = ("_bounds", "_counts", "count", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self._bounds = bounds
        self._counts = [0] * (len(bounds) + 1)  # the last slot is +Inf
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        if math.isnan(value):  # NaN falls in no bucket, so `+Inf` would disagree with _count
            raise MetricsError("a histogram cannot observe NaN")
        # Buckets are `le` (inclusive): bisect_left puts a value equal to a bound in it.
        self._counts[bisect_left(self._bounds, value)] += 1
        self.sum += value
        self.count += 1

    def sample(self, labels: dict[str, str]) -> HistogramSample:
        cumulative = zip((*self._bounds, math.inf), accumulate(self._counts), strict=True)
        return HistogramSample(labels, tuple(cumulative), self.sum, self.count)


ChildT = TypeVar("ChildT", CounterChild, GaugeChild, HistogramChild)


class _Metric(ABC, Generic[ChildT]):
    type: ClassVar[MetricType]

    def __init__(
        self, name: str, help: str, labelnames: Sequence[str] = (), *, registry: Registry | None
    ) -> None:
        problem = _name_problem(name, self.type)
        if problem:
            raise MetricsError(f"metric name {name!r} {problem}")
        if not help.strip():
            raise MetricsError(f"{name}: help text is required")
        self.name, self.help = name, help
        self.labelnames = _check_labelnames(name, labelnames)
        self._children: dict[tuple[str, ...], ChildT] = {}
        if not self.labelnames:
            # An unlabelled series exists from the start, so a scrape shows 0, not nothing.
            self._children[()] = self._new_child()
        if registry is not None:
            registry.register(self)

    def labels(self, /, **values: str | int) -> ChildT:
        """The series for these label values, created on first use."""
        try:
            key = tuple([str(values[label]) for label in self.labelnames])
        except KeyError:
            key = ()  # a declared label is missing: refused below
        if len(key) != len(values) or len(key) != len(self.labelnames):
            declared, given = sorted(self.labelnames), sorted(values)
            raise MetricsError(f"{self.name} takes labels {declared}, not {given}")
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._new_child()
        return child

    def _only(self) -> ChildT:
        if self.labelnames:
            raise MetricsError(f"{self.name} has labels {list(self.labelnames)}; use .labels()")
        return self._children[()]

    def collect(self) -> MetricFamily:
        samples = tuple(
            self._children[key].sample(dict(zip(self.labelnames, key, strict=True)))
            for key in sorted(self._children)
        )
        return MetricFamily(self.name, self.type, self.help, samples)

    @abstractmethod
    def _new_child(self) -> ChildT: ...


class Counter(_Metric[CounterChild]):
    """A count that only goes up; the name must end in `_total`."""

    type = "counter"

    def inc(self, amount: float = 1.0) -> None:
        self._only().inc(amount)

    def _new_child(self) -> CounterChild:
        return CounterChild()


class Gauge(_Metric[GaugeChild]):
    """A value that goes up and down."""

    type = "gauge"

    def inc(self, amount: float = 1.0) -> None:
        self._only().inc(amount)

    def dec(self, amount: float = 1.0) -> None:
        self._only().dec(amount)

    def set(self, value: float) -> None:
        self._only().set(value)

    def _new_child(self) -> GaugeChild:
        return GaugeChild()


class Histogram(_Metric[HistogramChild]):
    """Observations counted into explicit buckets; `+Inf` is always added."""

    type = "histogram"

    def __init__(
        self,
        name: str,
        help: str,
        labelnames: Sequence[str] = (),
        *,
        registry: Registry | None,
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        self.buckets = _check_buckets(name, buckets)  # before super(), which makes a child
        super().__init__(name, help, labelnames, registry=registry)

    def observe(self, value: float) -> None:
        self._only().observe(value)

    def _new_child(self) -> HistogramChild:
        return HistogramChild(self.buckets)


def _check_buckets(name: str, buckets: Sequence[float]) -> tuple[float, ...]:
    bounds = [float(b) for b in buckets]
    if bounds and bounds[-1] == math.inf:
        bounds.pop()  # accepted for client_python compatibility; added back on collect
    if not bounds or not all(math.isfinite(b) for b in bounds):
        raise MetricsError(f"{name}: buckets must be finite numbers, at least one")
    if any(a >= b for a, b in pairwise(bounds)):
        raise MetricsError(f"{name}: buckets must be strictly increasing, got {bounds}")
    return tuple(bounds)


class Registry:
    """The metrics one Worker exposes, in registration order."""

    def __init__(self) -> None:
        self._metrics: dict[str, _Metric[Any]] = {}

    def register(self, metric: _Metric[Any]) -> None:
        # Keyed by the family name without `_total`: a gauge `x` and a counter `x_total`
        # would be one family `x` to an OpenMetrics reader.
        key = metric.name.removesuffix("_total")
        if key in self._metrics:
            raise MetricsError(f"{metric.name} clashes with {self._metrics[key].name}")
        self._metrics[key] = metric

    def unregister(self, metric: _Metric[Any]) -> None:
        key = metric.name.removesuffix("_total")
        if self._metrics.get(key) is metric:
            del self._metrics[key]

    def get(self, name: str) -> _Metric[Any] | None:
        metric = self._metrics.get(name.removesuffix("_total"))
        return metric if metric is not None and metric.name == name else None

    def collect(self) -> Iterator[MetricFamily]:
        for metric in self._metrics.values():
            yield metric.collect()
