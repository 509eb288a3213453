"""Time parameters: what operators may type, what they get back, and how bad input fails."""

from __future__ import annotations

import ast
import itertools
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from obs_schema import timespec
from obs_schema.timespec import (
    TimeSpecError,
    format_rfc3339,
    parse_duration,
    parse_instant,
    parse_window,
)

NOW = 1_795_773_600.0  # 2026-11-27T10:00:00Z
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # RFC 3339 in its spellings: Z, offsets, fractions, lowercase, space separator.
        ("2026-11-27T10:00:00Z", NOW),
        ("2026-11-27T10:00:00.123Z", 1_795_773_600.123),
        ("2026-11-27T10:00:00.5+05:30", NOW - 5.5 * HOUR + 0.5),
        ("2026-11-27T15:30:00+05:30", NOW),
        ("2026-11-27T05:00:00-05:00", NOW),
        ("2026-11-27T10:00:00-00:00", NOW),
        ("2026-11-27t10:00:00z", NOW),
        ("2026-11-27 10:00:00Z", NOW),
        ("2026-11-27T10:00:00.123456789Z", NOW + 0.123456789),
        # Without an offset the time is UTC; a bare date is midnight UTC.
        ("2026-11-27T10:00:00", NOW),
        ("2026-11-27", NOW - 10 * HOUR),
        # A leap second is the first second of the next minute.
        ("2016-12-31T23:59:60Z", 1_483_228_800.0),
        # Epoch numbers: milliseconds, or seconds below 1e11.
        ("1795773600000", NOW),
        ("1795773600123", 1_795_773_600.123),
        ("1795773600", NOW),
        ("1795773600.5", NOW + 0.5),
        ("99999999999", 99_999_999_999.0),
        ("100000000000", 100_000_000.0),
        ("0", 0.0),
        (1_795_773_600_000, NOW),
        (1_795_773_600, NOW),
        (1_795_773_600.5, NOW + 0.5),
        (0, 0.0),
        # Durations count back from now; now±duration counts either way.
        ("now", NOW),
        ("  now\n", NOW),
        ("15m", NOW - 15 * MINUTE),
        ("24h", NOW - DAY),
        ("7d", NOW - 7 * DAY),
        ("30s", NOW - 30),
        ("2w", NOW - 14 * DAY),
        ("500ms", NOW - 0.5),
        ("1h30m", NOW - 90 * MINUTE),
        ("1.5h", NOW - 90 * MINUTE),
        ("0s", NOW),
        ("now-15m", NOW - 15 * MINUTE),
        ("now+5m", NOW + 5 * MINUTE),
        ("now-1d12h", NOW - 36 * HOUR),
    ],
)
def test_parse_instant_reads_every_documented_form(
    value: str | int | float, expected: float
) -> None:
    assert parse_instant(value, NOW) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("\uff11\uff12", "it is not a recognised time"),  # fullwidth digits
        ("\u0661\u0662", "it is not a recognised time"),  # Arabic-Indic digits
        ("\u200b15m", "it is not a recognised time"),  # zero-width space
        ("15x", "it is not a recognised time"),
        ("15M", "it is not a recognised time"),
        ("15 m", "it is not a recognised time"),
        ("1e5", "it is not a recognised time"),
        ("NaN", "it is not a recognised time"),
        ("inf", "it is not a recognised time"),
        ("Infinity", "it is not a recognised time"),
        ("yesterday", "it is not a recognised time"),
        ("'; DROP TABLE logs; --", "it is not a recognised time"),
        ("1 OR 1=1", "it is not a recognised time"),
        ("<script>alert(1)</script>", "it is not a recognised time"),
        ("2026-11-27T10:00Z", "it is not a recognised time"),
        ("2026-11-27T10:00:00.Z", "it is not a recognised time"),
        ("2026-11-27Z", "it is not a recognised time"),
        ("-5m", "write times before now without a sign (5m) or as now-5m"),
        ("-1795773600000", "write times before now without a sign (5m) or as now-5m"),
        ("-inf", "write times before now without a sign (5m) or as now-5m"),
        ("9" * 400, "it is longer than 64 characters"),
        ("30m1h", "units must go from largest to smallest, each once"),
        ("1h1h", "units must go from largest to smallest, each once"),
        ("now-", "it is not a duration"),
        ("now-5", "it is not a duration"),
        ("now--5m", "it is not a duration"),
        ("NOW", "it is not a recognised time"),
        ("2026-13-01", "that date or time does not exist"),
        ("2026-02-30", "that date or time does not exist"),
        ("0000-01-01", "that date or time does not exist"),
        ("2026-11-27T24:00:00Z", "that date or time does not exist"),
        ("2026-11-27T10:00:61Z", "seconds must be 00 to 60"),
        ("2026-11-27T10:00:00+24:00", "the UTC offset is out of range"),
        ("2026-11-27T10:00:00+05:60", "the UTC offset is out of range"),
        ("0001-01-01T00:00:00+01:00", "the time is outside the years 0001 to 9999"),
        ("9999-12-31T23:59:60Z", "the time is outside the years 0001 to 9999"),
        ("99999999999999999999", "the time is outside the years 0001 to 9999"),
        ("now+9000y", "it is not a duration"),
        ("now+99999999999999w", "the duration is too long"),
        ("now+520000w", "the time is outside the years 0001 to 9999"),
        (float("nan"), "the number is not finite"),
        (float("inf"), "the number is not finite"),
        (-1, "the number is negative"),
        (-0.5, "the number is negative"),
        (10**400, "the number is too large"),
        (True, "a bool is not a time"),
        (None, "a NoneType is not a time"),
        (1e300, "the time is outside the years 0001 to 9999"),
    ],
)
def test_parse_instant_rejects_garbage_saying_why(value: object, reason: str) -> None:
    with pytest.raises(TimeSpecError) as caught:
        parse_instant(value, NOW)  # type: ignore[arg-type]
    assert f": {reason}; expected " in str(caught.value)


def test_an_instant_error_names_the_value_and_every_accepted_form() -> None:
    with pytest.raises(TimeSpecError) as caught:
        parse_instant("15x", NOW)
    assert str(caught.value) == (
        "invalid time '15x': it is not a recognised time; expected RFC 3339 "
        "(2026-11-27T10:00:00Z), a date (2026-11-27), epoch milliseconds (1795773600000), "
        "a duration before now (15m, 24h, 7d, 1h30m), now, now-15m or now+5m"
    )


def test_an_error_quotes_at_most_forty_characters_of_the_value() -> None:
    with pytest.raises(TimeSpecError) as caught:
        parse_instant("x" * 60, NOW)
    assert str(caught.value).startswith(f"invalid time '{'x' * 36}...: it is not a recognised")


def test_time_spec_error_is_a_value_error_so_callers_can_catch_either() -> None:
    assert issubclass(TimeSpecError, ValueError)


# Fragments glued three at a time: ~7,000 strings that look almost, but not quite, like times.
FRAGMENTS = ["", "now", "-", "+", "1", "15", "m", "ms", "h", ".", ":", "T", "Z", "2026-11-27"]
FRAGMENTS += ["T10:00:00", "\uff11", " ", "e5", "nan", "\x00", "+05:30", "60", "9" * 30]
FUZZ = sorted({"".join(parts) for parts in itertools.product(FRAGMENTS, repeat=3)})


@pytest.mark.parametrize(
    "parse", [lambda v: parse_instant(v, NOW), parse_duration], ids=["instant", "duration"]
)
def test_no_string_makes_a_parser_raise_anything_but_time_spec_error(
    parse: Callable[[str], float],
) -> None:
    for value in FUZZ:
        try:
            result = parse(value)
        except TimeSpecError:
            continue
        assert isinstance(result, float) and math.isfinite(result), value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("15m", 900.0),
        ("1h30m", 5400.0),
        ("1d12h", 129_600.0),
        ("2w", 1_209_600.0),
        ("500ms", 0.5),
        ("1m0.5s", 60.5),
        ("90", 90.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("0s", 0.0),
        (" 5s ", 5.0),
        (90, 90.0),
        (2.5, 2.5),
        (0, 0.0),
    ],
)
def test_parse_duration_reads_units_and_bare_seconds(
    value: str | int | float, expected: float
) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-5m", "durations cannot be negative"),
        ("-1", "durations cannot be negative"),
        (-1, "the number is negative"),
        (float("nan"), "the number is not finite"),
        (float("-inf"), "the number is not finite"),
        ("", "it is empty"),
        ("15x", "it is not a duration"),
        ("m", "it is not a duration"),
        ("1.5.5s", "it is not a duration"),
        ("1e3", "it is not a duration"),
        ("5 m", "it is not a duration"),
        ("\uff15m", "it is not a duration"),
        ("now", "it is not a duration"),
        ("s1", "it is not a duration"),
        ("30m1h", "units must go from largest to smallest, each once"),
        ("99999999999999w", "the duration is too long"),
        (1e300, "the duration is too long"),
        (False, "a bool is not a time"),
    ],
)
def test_parse_duration_rejects_negative_and_garbage(value: object, reason: str) -> None:
    with pytest.raises(TimeSpecError) as caught:
        parse_duration(value)  # type: ignore[arg-type]
    assert str(caught.value).startswith("invalid duration ")
    assert f": {reason}; expected seconds (90) or a number with units" in str(caught.value)


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        (NOW, "2026-11-27T10:00:00.000Z"),
        (1_795_773_600.123, "2026-11-27T10:00:00.123Z"),
        (1_795_773_600.9999, "2026-11-27T10:00:01.000Z"),
        (1_795_773_600.0016, "2026-11-27T10:00:00.002Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (-0.001, "1969-12-31T23:59:59.999Z"),
        (951_782_400, "2000-02-29T00:00:00.000Z"),
        (-62_135_596_800, "0001-01-01T00:00:00.000Z"),
        (253_402_300_799.999, "9999-12-31T23:59:59.999Z"),
    ],
)
def test_format_rfc3339_writes_utc_with_milliseconds(epoch: float, expected: str) -> None:
    assert format_rfc3339(epoch) == expected


@pytest.mark.parametrize("epoch", [math.nan, math.inf, -math.inf, 253_402_300_800.0, -7e10])
def test_format_rfc3339_refuses_what_it_cannot_write(epoch: float) -> None:
    with pytest.raises(TimeSpecError):
        format_rfc3339(epoch)


@pytest.mark.parametrize(
    "text", ["2026-11-27T10:00:00.123Z", "1970-01-01T00:00:00.000Z", "0999-01-01T00:00:00.001Z"]
)
def test_formatted_times_parse_back_to_the_same_text(text: str) -> None:
    assert format_rfc3339(parse_instant(text, NOW)) == text


@pytest.mark.parametrize(
    ("since", "until", "kwargs", "expected"),
    [
        (None, None, {}, (NOW - HOUR, NOW)),
        (None, None, {"default_span": DAY}, (NOW - DAY, NOW)),
        ("15m", None, {}, (NOW - 15 * MINUTE, NOW)),
        (None, "now-1h", {}, (NOW - 2 * HOUR, NOW - HOUR)),
        ("2026-11-27T09:00:00Z", "2026-11-27T10:00:00Z", {}, (NOW - HOUR, NOW)),
        ("now", "now", {}, (NOW, NOW)),
        (1_795_770_000_000, "now", {}, (NOW - HOUR, NOW)),
    ],
)
def test_parse_window_fills_in_defaults(
    since: str | int | None,
    until: str | None,
    kwargs: dict[str, float],
    expected: tuple[float, float],
) -> None:
    assert parse_window(since, until, NOW, **kwargs) == expected


def test_parse_window_refuses_a_start_after_its_end() -> None:
    with pytest.raises(TimeSpecError) as caught:
        parse_window("now", "1h", NOW)
    assert str(caught.value) == (
        "since (2026-11-27T10:00:00.000Z) is after until (2026-11-27T09:00:00.000Z)"
    )


@pytest.mark.parametrize(
    ("since", "until", "default_span"),
    [("15x", None, 3600.0), (None, "", 3600.0), (None, None, -1.0)],
)
def test_parse_window_passes_on_bad_parts_as_time_spec_errors(
    since: str | None, until: str | None, default_span: float
) -> None:
    with pytest.raises(TimeSpecError):
        parse_window(since, until, NOW, default_span=default_span)


def test_the_module_imports_only_the_standard_library_so_it_runs_in_bare_pyodide() -> None:
    tree = ast.parse(Path(timespec.__file__).read_text())
    imported = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported == {"__future__", "math", "re", "datetime"}
