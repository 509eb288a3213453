"""MetricPoint: gauges, counters and histograms, with values that fit their kind."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from obs_schema.models import MetricKind, MetricPoint, Temporality

BUCKETS = {"bounds": [0.1, 0.5, 1], "counts": [3, 2, 0, 1], "sum": 2.75, "count": 6}


@pytest.mark.parametrize(
    "point",
    [
        {"name": "queue_depth", "kind": "gauge", "value": -3.5},
        {"name": "kv_reads_total", "kind": "counter", "value": 1042, "labels": {"ns": "CONFIG"}},
        {"name": "http.server.duration", "kind": "histogram", "value": 0.25, "unit": "s"},
        {
            "name": "rpc/latency-ms",
            "kind": "histogram",
            "histogram": BUCKETS,
            "temporality": "delta",
        },
        {"name": "ns:job:rate5m", "kind": "gauge", "value": 0, "timestamp": 1795773600000},
        {"name": "_private", "kind": "counter", "value": 0, "labels": {"页面": "首页"}},
    ],
)
def test_valid_points(point: dict[str, Any]) -> None:
    assert (
        MetricPoint.model_validate(point).model_dump(exclude_defaults=True, mode="json")["name"]
        == point["name"]
    )


def test_a_point_answers_with_defaults_filled_in() -> None:
    point = MetricPoint.model_validate(
        {"name": "kv_reads_total", "kind": "counter", "value": 7, "timestamp": 1795773600000}
    )
    assert point.model_dump() == {
        "name": "kv_reads_total",
        "kind": MetricKind.COUNTER,
        "value": 7.0,
        "histogram": None,
        "temporality": Temporality.CUMULATIVE,
        "labels": {},
        "unit": "",
        "timestamp": datetime(2026, 11, 27, 10, tzinfo=UTC),
    }


def test_bucket_histograms_keep_their_buckets() -> None:
    point = MetricPoint.model_validate({"name": "h", "kind": "histogram", "histogram": BUCKETS})
    assert point.histogram is not None
    assert (point.histogram.bounds, point.histogram.counts) == ([0.1, 0.5, 1.0], [3, 2, 0, 1])


def bad_buckets(**change: Any) -> dict[str, Any]:
    return {"name": "h", "kind": "histogram", "histogram": {**BUCKETS, **change}}


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"name": "1abc", "kind": "gauge", "value": 1}, "pattern"),
    ({"name": "with space", "kind": "gauge", "value": 1}, "pattern"),
    ({"name": "", "kind": "gauge", "value": 1}, "pattern"),
    ({"name": "m" * 256, "kind": "gauge", "value": 1}, "pattern"),
    ({"name": "m", "kind": "summary", "value": 1}, "kind"),
    ({"name": "m", "kind": "gauge"}, "needs a value"),
    ({"name": "m", "kind": "gauge", "value": float("nan")}, "finite"),
    ({"name": "m", "kind": "gauge", "value": float("inf")}, "finite"),
    ({"name": "m", "kind": "gauge", "value": "lots"}, "number"),
    ({"name": "m", "kind": "counter", "value": -1}, "never goes down"),
    ({"name": "m", "kind": "gauge", "value": 1, "histogram": BUCKETS}, "only allowed"),
    ({"name": "m", "kind": "histogram"}, "exactly one"),
    ({"name": "m", "kind": "histogram", "value": 1, "histogram": BUCKETS}, "exactly one"),
    (bad_buckets(counts=[1, 2, 3]), "one more entry"),
    (bad_buckets(bounds=[1, 0.5, 2], counts=[1, 2, 2, 1]), "strictly increasing"),
    (bad_buckets(count=7), "sum of counts"),
    (bad_buckets(counts=[3, 2, -1, 2]), "greater than or equal"),
    (bad_buckets(min=5, max=1), "min is greater"),
    (bad_buckets(bounds=list(range(300)), counts=[0] * 301, count=0), "at most"),
    (
        {"name": "m", "kind": "gauge", "value": 1, "labels": {f"l{i}": "v" for i in range(65)}},
        "at most",
    ),
    ({"name": "m", "kind": "gauge", "value": 1, "labels": {"k": "v" * 1025}}, "at most"),
    ({"name": "m", "kind": "gauge", "value": 1, "unit": "u" * 64}, "at most"),
    ({"name": "m", "kind": "gauge", "value": 1, "timestamp": "later"}, "not understood"),
]


@pytest.mark.parametrize(("point", "complaint"), INVALID)
def test_invalid_points_say_why(point: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError) as caught:
        MetricPoint.model_validate(point)
    assert complaint in str(caught.value)
