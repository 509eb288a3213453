"""Explanations read as sentences, with values in the units people use."""

from __future__ import annotations

import pytest

from infra.detector import Verdict
from infra.explain import amount, describe, explain
from tests.workers.infra.helpers import T0


@pytest.mark.parametrize(
    ("value", "unit", "counter", "text"),
    [
        (0.25, "s", False, "250 ms"),
        (0.0042, "s", False, "4.2 ms"),
        (1.5, "s", False, "1.5 s"),
        (3 * 2**20, "By", False, "3 MiB"),
        (512, "By", False, "512 B"),
        (42, "", True, "42 per 5 min"),
        (12345.6, "1", False, "12,346"),
        (0.7312, "", False, "0.731"),
    ],
)
def test_amounts_are_shown_in_readable_units(
    value: float, unit: str, counter: bool, text: str
) -> None:
    assert amount(value, unit, counter) == text


def test_an_explanation_says_what_when_how_far_why_and_for_how_long() -> None:
    verdict = Verdict(0.25, 0.004, 0.0026, 0.0054, 966.8, 480.0, True, "level shift", 3)
    subject = describe("binding_operation_duration_seconds", "mean", {"class": "kv", "op": "get"})
    text = explain(subject, verdict, T0 + 600_000, "s", False, T0)
    assert text == (
        "binding_operation_duration_seconds (mean) [class=kv, op=get] was 250 ms at 00:10 UTC, "
        "62.5x above the expected 4 ms (usual range 2.6 ms to 5.4 ms, from the same time of day "
        "over the last 3 days). This looks like a sustained shift in level; anomalous for 15 min "
        "(score +966.8)."
    )


def test_a_drop_without_daily_history_says_so() -> None:
    verdict = Verdict(40.0, 100.0, 70.0, 130.0, -8.0, -4.0, True, "dip", 0)
    text = explain(describe("requests_total", "sum", {}), verdict, T0, "", True, T0)
    assert text.startswith("requests_total was 40 per 5 min at 00:00 UTC, 2.5x below the")
    assert "from the last 3 hours (not enough history for a daily pattern yet)" in text
