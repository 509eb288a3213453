"""Instants: RFC 3339 or epoch numbers in, aware UTC inside, RFC 3339 with milliseconds out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from obs_schema.models.instant import UtcDatetime, format_time, parse_time

times = TypeAdapter(UtcDatetime)
NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-11-27T12:00:00Z", NOON),
        ("2026-11-27t12:00:00z", NOON),
        ("2026-11-27 12:00:00Z", NOON),
        ("2026-11-27T12:00:00", NOON),  # no offset: UTC, never the server's zone
        ("2026-11-27T13:30:00+01:30", NOON),
        ("2026-11-27T07:00:00-05:00", NOON),
        ("2026-11-27T12:00:00.123456789Z", NOON + timedelta(microseconds=123456)),
        ("2026-11-27T11:59:60Z", NOON),  # leap second: the next second
        (1795780800000, NOON),  # epoch milliseconds
        (1795780800000.5, NOON + timedelta(microseconds=500)),
        ("1795780800000", NOON),
        (1795780800, NOON),  # below 1e11: epoch seconds
        (datetime(2026, 11, 27, 12, 0), NOON),
        (datetime(2026, 11, 27, 13, 0, tzinfo=timezone(timedelta(hours=1))), NOON),
    ],
)
def test_times_parse_to_aware_utc(given: object, expected: datetime) -> None:
    parsed = times.validate_python(given)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "given",
    [
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-11-27T25:00:00Z",
        "2026-11-27T12:00:00+24:00",
        "2026-11-27",
        "15m",
        "",
        float("nan"),
        float("inf"),
        1e300,
        "9" * 5000,
        True,
        None,
        [],
    ],
)
def test_bad_times_are_validation_errors(given: object) -> None:
    with pytest.raises(ValidationError):
        times.validate_python(given)


def test_times_answer_rfc3339_utc_with_milliseconds() -> None:
    moment = NOON + timedelta(microseconds=123456)
    assert format_time(moment) == "2026-11-27T12:00:00.123Z"
    assert times.dump_json(moment) == b'"2026-11-27T12:00:00.123Z"'
    assert parse_time(format_time(moment)) == NOON + timedelta(milliseconds=123)
