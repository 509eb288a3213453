"""The metrics registry: what each metric type records, and which declarations it refuses."""

from __future__ import annotations

import ast
import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path

import prometheus_client
import pytest

from obs_schema import metrics
from obs_schema.metrics import (
    DEFAULT_BUCKETS,
    Counter,
    Gauge,
    Histogram,
    HistogramSample,
    MetricFamily,
    MetricsError,
    Registry,
    Sample,
)

INF = math.inf


def test_an_unlabelled_counter_is_exposed_at_zero_before_its_first_increment() -> None:
    registry = Registry()
    Counter("jobs_run_total", "Jobs run.", registry=registry)
    assert list(registry.collect()) == [
        MetricFamily("jobs_run_total", "counter", "Jobs run.", (Sample({}, 0.0),))
    ]


def test_a_counter_adds_one_by_default_and_any_non_negative_amount() -> None:
    jobs = Counter("jobs_run_total", "Jobs run.", registry=None)
    jobs.inc()
    jobs.inc(2.5)
    jobs.inc(0)
    assert jobs.collect().samples == (Sample({}, 3.5),)


@pytest.mark.parametrize("amount", [-1.0, -0.001, math.nan, -math.inf])
def test_a_counter_refuses_to_go_down_or_become_nan(amount: float) -> None:
    jobs = Counter("jobs_run_total", "Jobs run.", registry=None)
    with pytest.raises(MetricsError, match="counters only go up"):
        jobs.inc(amount)
    assert jobs.collect().samples == (Sample({}, 0.0),)


def test_labelled_series_appear_on_first_use_sorted_by_label_values() -> None:
    requests = Counter("http_requests_total", "Requests.", ("route", "status"), registry=None)
    assert requests.collect().samples == ()
    requests.labels(route="/b", status=200).inc()
    requests.labels(status="500", route="/a").inc(2)
    requests.labels(route="/a", status="200").inc(3)
    requests.labels(route="/b", status="200").inc()
    assert requests.collect().samples == (
        Sample({"route": "/a", "status": "200"}, 3.0),
        Sample({"route": "/a", "status": "500"}, 2.0),
        Sample({"route": "/b", "status": "200"}, 2.0),
    )


def test_the_same_label_values_give_the_same_series_object() -> None:
    requests = Counter("http_requests_total", "Requests.", ("status",), registry=None)
    assert requests.labels(status=200) is requests.labels(status="200")


def test_a_label_may_be_called_self_because_labels_takes_self_positionally() -> None:
    owners = Gauge("owners", "Owners.", ("self",), registry=None)
    owners.labels(self="me").set(1)
    assert owners.collect().samples == (Sample({"self": "me"}, 1.0),)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, "http_requests_total takes labels ['route', 'status'], not []"),
        ({"route": "/"}, "http_requests_total takes labels ['route', 'status'], not ['route']"),
        (
            {"route": "/", "status": 200, "method": "GET"},
            "takes labels ['route', 'status'], not ['method', 'route', 'status']",
        ),
    ],
)
def test_labels_must_match_the_declared_names_exactly(
    given: dict[str, str | int], message: str
) -> None:
    requests = Counter("http_requests_total", "Requests.", ("route", "status"), registry=None)
    with pytest.raises(MetricsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        requests.labels(**given)


def test_a_labelled_metric_cannot_be_updated_without_choosing_its_labels() -> None:
    requests = Counter("http_requests_total", "Requests.", ("route",), registry=None)
    with pytest.raises(MetricsError, match=r"has labels \['route'\]; use .labels\(\)"):
        requests.inc()


def test_a_gauge_goes_up_down_and_to_any_value_including_nan_and_infinity() -> None:
    queue = Gauge("queue_depth", "Items waiting.", ("queue",), registry=None)
    queue.labels(queue="a").inc(5)
    queue.labels(queue="a").dec(2)
    queue.labels(queue="b").set(-7.5)
    queue.labels(queue="c").set(math.inf)
    queue.labels(queue="d").inc()
    queue.labels(queue="d").dec()
    queue.labels(queue="d").dec()
    assert queue.collect().samples == (
        Sample({"queue": "a"}, 3.0),
        Sample({"queue": "b"}, -7.5),
        Sample({"queue": "c"}, INF),
        Sample({"queue": "d"}, -1.0),
    )
    queue.labels(queue="a").set(math.nan)
    assert math.isnan(queue.collect().samples[0].value)  # type: ignore[union-attr]


def test_a_histogram_counts_cumulatively_and_a_value_on_a_bound_falls_in_that_bucket() -> None:
    latency = Histogram("job_duration_seconds", "Job time.", registry=None, buckets=(1, 5, 10))
    for value in (0.5, 1, 3, 10, 11, -2, INF):
        latency.observe(value)
    assert latency.collect().samples == (
        HistogramSample({}, ((1.0, 3), (5.0, 4), (10.0, 5), (INF, 7)), INF, 7),
    )


def test_a_histogram_sums_its_observations() -> None:
    latency = Histogram("job_duration_seconds", "Job time.", ("job",), registry=None)
    for value in (0.25, 0.5, 2.0):
        latency.labels(job="a").observe(value)
    (sample,) = latency.collect().samples
    assert isinstance(sample, HistogramSample)
    assert (sample.labels, sample.sum, sample.count) == ({"job": "a"}, 2.75, 3)


def test_an_unobserved_histogram_has_every_bucket_at_zero() -> None:
    latency = Histogram("job_duration_seconds", "Job time.", registry=None, buckets=[0.1])
    assert latency.collect().samples == (HistogramSample({}, ((0.1, 0), (INF, 0)), 0.0, 0),)


def test_a_histogram_refuses_nan_so_the_inf_bucket_always_equals_the_count() -> None:
    latency = Histogram("job_duration_seconds", "Job time.", registry=None)
    with pytest.raises(MetricsError, match="cannot observe NaN"):
        latency.observe(math.nan)


def test_the_default_buckets_are_client_pythons_latency_buckets_in_seconds() -> None:
    assert (*DEFAULT_BUCKETS, INF) == prometheus_client.Histogram.DEFAULT_BUCKETS
    latency = Histogram("job_duration_seconds", "Job time.", registry=None)
    assert latency.buckets == DEFAULT_BUCKETS


@pytest.mark.parametrize(
    ("buckets", "accepted"),
    [
        ((1, 2.5, 10), (1.0, 2.5, 10.0)),
        ((-1, 0, 1), (-1.0, 0.0, 1.0)),
        ((1, INF), (1.0,)),  # an explicit +Inf, as client_python allows, is dropped and re-added
        ((), None),
        ((INF,), None),
        ((1, 1), None),
        ((2, 1), None),
        ((1, math.nan), None),
        ((-INF, 1), None),
    ],
)
def test_histogram_buckets_must_be_finite_and_strictly_increasing(
    buckets: Sequence[float], accepted: tuple[float, ...] | None
) -> None:
    if accepted is None:
        with pytest.raises(MetricsError, match="buckets must be"):
            Histogram("job_duration_seconds", "Job time.", registry=None, buckets=buckets)
    else:
        made = Histogram("job_duration_seconds", "Job time.", registry=None, buckets=buckets)
        assert made.buckets == accepted


# Each rule of `promtool check metrics` (promlint) that a name can break, and the words we use.
NAME_RULES: list[tuple[type[Counter | Gauge | Histogram], str, str]] = [
    (Counter, "http_requests", "counters must end in '_total'"),
    (Gauge, "http_requests_total", "only counters end in '_total'"),
    (Counter, "httpRequests_total", "must be snake_case ASCII"),
    (Counter, "http:requests_total", "must be snake_case ASCII"),
    (Counter, "1st_requests_total", "must be snake_case ASCII"),
    (Gauge, "", "must be snake_case ASCII"),
    (Gauge, "caf\u00e9_visits", "must be snake_case ASCII"),
    (Counter, "__internal_total", "must not start with '__'"),
    (Gauge, "queue_count", "must not end in _bucket, _count or _sum"),
    (Gauge, "size_bucket", "must not end in _bucket, _count or _sum"),
    (Histogram, "latency_sum", "must not end in _bucket, _count or _sum"),
    (Histogram, "boot_timestamp_seconds", "only gauges end in '_timestamp_seconds'"),
    (Counter, "requests_counter_total", "must not include its type 'counter'"),
    (Gauge, "queue_gauge", "must not include its type 'gauge'"),
    (Histogram, "latency_histogram_seconds", "must not include its type 'histogram'"),
    (Histogram, "request_duration_milliseconds", "must use base units"),
    (Gauge, "uptime_minutes", "must use base units"),
    (Gauge, "payload_kilobytes", "must use base units"),
    (Counter, "link_bits_total", "must use base units"),
    (Histogram, "request_duration_ms", "must not abbreviate units"),
    (Gauge, "disk_used_gb", "must not abbreviate units"),
    (Counter, "sent_kb_total", "must not abbreviate units"),
]


@pytest.mark.parametrize(("kind", "name", "problem"), NAME_RULES)
def test_names_that_promtool_would_flag_are_refused_at_declaration(
    kind: type[Counter | Gauge | Histogram], name: str, problem: str
) -> None:
    with pytest.raises(MetricsError) as caught:
        kind(name, "Help.", registry=None)
    assert str(caught.value).startswith(f"metric name {name!r} {problem}")


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        (Counter, "http_requests_total"),
        (Counter, "bytes_sent_total"),
        (Gauge, "process_start_time_seconds"),
        (Gauge, "last_scrape_timestamp_seconds"),
        (Gauge, "s3_objects"),
        (Gauge, "_private_gauges_in_flight"),
        (Histogram, "http_request_duration_seconds"),
        (Histogram, "response_size_bytes"),
    ],
)
def test_conventional_names_are_accepted(
    kind: type[Counter | Gauge | Histogram], name: str
) -> None:
    assert kind(name, "Help.", registry=None).name == name


@pytest.mark.parametrize(
    ("labelnames", "problem"),
    [
        (("le",), "label name 'le' is invalid or reserved"),
        (("quantile",), "label name 'quantile' is invalid or reserved"),
        (("__name__",), "label name '__name__' is invalid or reserved"),
        (("statusCode",), "label name 'statusCode' is invalid or reserved"),
        (("status-code",), "label name 'status-code' is invalid or reserved"),
        (("route", "route"), "label names ['route', 'route'] repeat"),
        ("route", "labelnames must be a sequence of names, not a string"),
    ],
)
def test_label_names_must_be_snake_case_unique_and_unreserved(
    labelnames: Sequence[str], problem: str
) -> None:
    with pytest.raises(MetricsError) as caught:
        Gauge("queue_depth", "Items waiting.", labelnames, registry=None)
    assert str(caught.value) == f"queue_depth: {problem}"


@pytest.mark.parametrize("help_text", ["", "   ", "\n"])
def test_every_metric_needs_help_text(help_text: str) -> None:
    with pytest.raises(MetricsError, match="queue_depth: help text is required"):
        Gauge("queue_depth", help_text, registry=None)


def test_the_registry_collects_in_registration_order() -> None:
    registry = Registry()
    Gauge("zeta", "Z.", registry=registry)
    Counter("alpha_total", "A.", registry=registry)
    Histogram("mid_seconds", "M.", registry=registry, buckets=(1,))
    assert [family.name for family in registry.collect()] == [
        "zeta",
        "alpha_total",
        "mid_seconds",
    ]


@pytest.mark.parametrize(
    ("kind", "name", "message"),
    [
        (Counter, "jobs_total", "jobs_total clashes with jobs_total"),
        # A gauge `jobs` and a counter `jobs_total` are one family `jobs` to OpenMetrics.
        (Gauge, "jobs", "jobs clashes with jobs_total"),
    ],
)
def test_the_registry_refuses_a_second_metric_of_the_same_family(
    kind: type[Counter | Gauge], name: str, message: str
) -> None:
    registry = Registry()
    Counter("jobs_total", "Jobs.", registry=registry)
    with pytest.raises(MetricsError, match=message):
        kind(name, "Again.", registry=registry)


def test_an_unregistered_metric_can_be_replaced() -> None:
    registry = Registry()
    old = Gauge("queue_depth", "Old.", registry=registry)
    registry.unregister(old)
    new = Gauge("queue_depth", "New.", registry=registry)
    assert registry.get("queue_depth") is new
    assert [family.help for family in registry.collect()] == ["New."]


def test_registry_get_finds_a_metric_only_by_its_exact_name() -> None:
    registry = Registry()
    jobs = Counter("jobs_total", "Jobs.", registry=registry)
    assert registry.get("jobs_total") is jobs
    assert registry.get("jobs") is None
    assert registry.get("missing") is None


def test_unregistering_a_metric_that_is_not_registered_changes_nothing() -> None:
    registry = Registry()
    kept = Gauge("queue_depth", "Kept.", registry=registry)
    registry.unregister(Gauge("queue_depth", "Stranger.", registry=None))
    assert registry.get("queue_depth") is kept


def test_a_metric_without_a_registry_is_not_collected_anywhere() -> None:
    registry = Registry()
    Gauge("queue_depth", "Nowhere.", registry=None)
    assert list(registry.collect()) == []


def test_collected_samples_are_frozen_snapshots() -> None:
    jobs = Counter("jobs_total", "Jobs.", registry=None)
    (before,) = jobs.collect().samples
    jobs.inc()
    assert before == Sample({}, 0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.value = 5  # type: ignore[misc]


def test_the_module_imports_only_the_standard_library_so_it_runs_in_bare_pyodide() -> None:
    tree = ast.parse(Path(metrics.__file__).read_text())
    imported = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    stdlib = {"__future__", "math", "re", "abc", "bisect", "collections.abc", "dataclasses"}
    assert imported <= stdlib | {"itertools", "typing"}
