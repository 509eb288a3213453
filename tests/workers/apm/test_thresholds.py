"""Threshold rules measure their window and describe a breach as an alert (pure)."""

from __future__ import annotations

import pytest

from apm.statstore import Total
from apm.thresholds import Rule, alert, measure
from obs_schema.models.alert import AlertEvent
from obs_schema.sketch import Sketch


def total(values: list[float], errors: int = 0) -> Total:
    sketch = Sketch()
    for value in values:
        sketch.add(value)
    return Total(len(values), errors, sketch)


@pytest.mark.parametrize(
    ("rule", "data", "breached"),
    [
        (Rule("r", "api", "p95", 100.0), total([50.0] * 19 + [500.0]), False),
        (Rule("r", "api", "p95", 100.0), total([50.0] * 18 + [500.0] * 2), True),
        (Rule("r", "api", "p99", 100.0, min_requests=50), total([500.0] * 20), False),
        (Rule("r", "api", "error_rate", 5.0), total([1.0] * 20, errors=2), True),
        (Rule("r", "api", "error_rate", 10.0), total([1.0] * 20, errors=2), False),
        (Rule("r", "api", "apdex", 0.9), total([100.0] * 8 + [5000.0] * 2), True),
        (Rule("r", "api", "apdex", 0.7), total([100.0] * 8 + [5000.0] * 2), False),
        (Rule("r", "api", "no_traffic", 10.0), total([]), True),
        (Rule("r", "api", "no_traffic", 10.0), total([1.0]), False),
        (Rule("r", "api", "p95", 100.0), total([]), False),
    ],
)
def test_rules_measure_their_metric(rule: Rule, data: Total, breached: bool) -> None:
    assert measure(rule, data, apdex_t_ms=500.0)[0] is breached


def test_a_breach_becomes_a_valid_alert_event_with_numbers_and_examples() -> None:
    rule = Rule("api-p95", "api", "p95", 100.0, route="/pitches", severity="critical")
    data = total([300.0] * 10, errors=1)
    payload = alert(rule, True, 300.0, data, ["a" * 32], 1_000, 2_000, 500.0)
    event = AlertEvent.model_validate(payload)
    assert event.labels == {
        "service": "api",
        "rule": "api-p95",
        "metric": "p95",
        "route": "/pitches",
    }
    assert event.annotations.summary == "api /pitches: p95 300 above 100"
    extra = event.annotations.__pydantic_extra__ or {}
    assert (extra["requests"], extra["errors"], extra["example_trace_ids"]) == ("10", "1", "a" * 32)
    resolved = AlertEvent.model_validate(alert(rule, False, 20.0, data, [], 1_000, 2_000, 500.0))
    assert resolved.status.value == "resolved" and resolved.ends_at is not None
    assert resolved.fingerprint == event.fingerprint  # the same alert, now resolved
    assert rule.minutes == 5 and Rule("q", "api", "no_traffic", 15.0).minutes == 15
