"""Rule documents: kinds, metric paths into snapshots, and clear validation errors."""

from __future__ import annotations

from typing import Any

import pytest

from alerting.problems import Invalid
from alerting.rules import Rule, parse_rules, render

THRESHOLD: dict[str, Any] = {
    "name": "ServiceErrorRate",
    "metric": "apm.by_service_5m.*.error_rate",
    "op": ">",
    "threshold": 0.05,
    "for": "5m",
    "severity": "critical",
    "annotations": {"summary": "{service} error rate {value} > {threshold}"},
}


def test_rules_parse_with_defaults_and_round_trip() -> None:
    rules = parse_rules(
        {
            "rules": [
                THRESHOLD,
                {
                    "name": "LogErrorsJump",
                    "kind": "rate_of_change",
                    "metric": "logs.errors_5m",
                    "threshold": 1,
                    "window": "10m",
                },
                {"name": "NoTraffic", "kind": "absence", "metric": "apm.requests_5m"},
            ]
        }
    )
    threshold, rate, absence = rules
    assert (threshold.for_ms, threshold.label, threshold.source) == (300_000, "service", "apm")
    assert (rate.window_ms, rate.change, rate.op, rate.for_ms) == (600_000, "relative", ">", 0)
    assert (absence.for_ms, absence.severity) == (300_000, "warning")
    assert parse_rules([r.to_dict() for r in rules]) == rules


@pytest.mark.parametrize(
    ("rule", "place", "message"),
    [
        (
            {**THRESHOLD, "metric": "nowhere.x"},
            "rules.0.metric",
            "a metric path starts with a Worker",
        ),
        ({**THRESHOLD, "metric": "apm.*.*.x"}, "rules.0.metric", "at most one *"),
        ({**THRESHOLD, "threshold": "high"}, "rules.0.threshold", "a number is required"),
        ({**THRESHOLD, "op": "=>"}, "rules.0.op", "must be one of"),
        ({**THRESHOLD, "for": "5 minutes"}, "rules.0.for", "invalid duration"),
        ({**THRESHOLD, "kind": "magic"}, "rules.0.kind", "must be one of"),
        (
            {**THRESHOLD, "kind": "rate_of_change", "window": "10s"},
            "rules.0.window",
            "from 1m to 24h",
        ),
        ({**THRESHOLD, "severity": "page"}, "rules.0.severity", "must be one of"),
        ({**THRESHOLD, "labels": {"a": 1}}, "rules.0.labels", "maps names to strings"),
        ({**THRESHOLD, "treshold": 1}, "rules.0.treshold", "unknown field"),
    ],
)
def test_invalid_rules_are_explained(rule: dict[str, Any], place: str, message: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_rules([rule])
    assert any(
        ".".join(d["loc"]) == place and message in d["message"] for d in caught.value.details
    ), caught.value.details


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(Invalid, match="another rule has this name"):
        parse_rules([THRESHOLD, THRESHOLD])


def test_annotations_fill_known_placeholders_only() -> None:
    assert (
        render("{service} at {value} ({unknown})", {"service": "api", "value": "0.1"})
        == "api at 0.1 ({unknown})"
    )
    assert Rule("r", "threshold", "apm.x", threshold=1.0, op=">=").holds(1.0)
