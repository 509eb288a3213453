"""Time intervals as Alertmanager defines them: times, weekdays, days of month, months, zones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from alerting.problems import Invalid, Problems
from alerting.timeintervals import parse_intervals


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def interval(**period: Any) -> Any:
    problems = Problems()
    found = parse_intervals([{"name": "i", "time_intervals": [period]}], problems)
    problems.raise_if_any()
    return found["i"]


@pytest.mark.parametrize(
    ("period", "moment", "inside"),
    [
        ({"times": [{"start_time": "09:00", "end_time": "17:00"}]}, "2026-03-02T09:00", True),
        ({"times": [{"start_time": "09:00", "end_time": "17:00"}]}, "2026-03-02T17:00", False),
        ({"times": [{"start_time": "22:00", "end_time": "24:00"}]}, "2026-03-02T23:59", True),
        ({"weekdays": ["monday:friday"]}, "2026-03-06T12:00", True),  # Friday
        ({"weekdays": ["monday:friday"]}, "2026-03-07T12:00", False),  # Saturday
        ({"days_of_month": ["-1"]}, "2026-02-28T12:00", True),  # last day of February
        ({"days_of_month": ["1:5"]}, "2026-03-06T12:00", False),
        ({"months": ["december", "1:2"]}, "2026-02-10T00:00", True),
        ({"years": ["2027"]}, "2026-02-10T00:00", False),
        (
            {"times": [{"start_time": "09:00", "end_time": "10:00"}], "location": "Europe/Berlin"},
            "2026-03-02T08:30",  # 09:30 in Berlin
            True,
        ),
        (
            {
                "weekdays": ["saturday", "sunday"],
                "times": [{"start_time": "00:00", "end_time": "06:00"}],
            },
            "2026-03-08T05:59",
            True,
        ),
    ],
)
def test_a_period_matches_when_every_field_it_sets_matches(
    period: dict[str, Any], moment: str, inside: bool
) -> None:
    assert interval(**period).contains(ms(moment)) is inside


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ({"times": [{"start_time": "9:00", "end_time": "17:00"}]}, "HH:MM"),
        ({"times": [{"start_time": "17:00", "end_time": "09:00"}]}, "after start_time"),
        ({"weekdays": ["funday"]}, "not a day name"),
        ({"days_of_month": ["-3:5"]}, "one sign"),
        ({"months": ["13"]}, "out of range"),
        ({"location": "Mars/Olympus"}, "unknown time zone"),
        ({"hours": ["1"]}, "unknown field"),
    ],
)
def test_bad_periods_are_explained(period: dict[str, Any], message: str) -> None:
    with pytest.raises(Invalid, match=message):
        interval(**period)
