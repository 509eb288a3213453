"""Every dialect of log severity a client may send becomes one ordered `Level`."""

from __future__ import annotations

import pytest

from obs_schema.severity import (
    Level,
    level_from_otlp,
    level_from_syslog,
    normalise_level,
    otlp_severity_number,
    syslog_severity,
)

T, D, I, N, W, E, C, F = (  # noqa: E741 - one letter per level keeps the tables readable
    Level.TRACE,
    Level.DEBUG,
    Level.INFO,
    Level.NOTICE,
    Level.WARNING,
    Level.ERROR,
    Level.CRITICAL,
    Level.FATAL,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("trace", T),
        ("debug", D),
        ("info", I),
        ("notice", N),
        ("warning", W),
        ("error", E),
        ("critical", C),
        ("fatal", F),
        ("warn", W),
        ("WARN", W),
        ("  Warning\n", W),
        ("err", E),
        ("ERR", E),
        ("crit", C),
        ("emerg", F),
        ("emergency", F),
        ("alert", F),
        ("panic", F),
        ("information", I),
        ("Informational", I),
        ("dbg", D),
        ("inf", I),
        ("wrn", W),
        ("vrb", T),
        ("verbose", T),
        ("ftl", F),
        (Level.ERROR, E),
    ],
)
def test_names_and_abbreviations_normalise(given: object, expected: Level) -> None:
    assert normalise_level(given) is expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [(0, F), (1, F), (2, C), (3, E), (4, W), (5, N), (6, I), (7, D)],
)
def test_bare_numbers_are_syslog_severities(number: int, expected: Level) -> None:
    assert normalise_level(number) is expected
    assert normalise_level(str(number)) is expected
    assert level_from_syslog(number) is expected


# The OTLP SeverityNumber ranges of logs.proto, every number spelled out.
OTLP_RANGES = [
    (range(1, 5), T),
    (range(5, 9), D),
    (range(9, 13), I),
    (range(13, 17), W),
    (range(17, 21), E),
    (range(21, 25), F),
]


@pytest.mark.parametrize(
    ("number", "expected"),
    [(number, level) for numbers, level in OTLP_RANGES for number in numbers],
)
def test_otlp_severity_numbers_map_by_range(number: int, expected: Level) -> None:
    assert level_from_otlp(number) is expected
    assert normalise_level(number, numeric="otlp") is expected
    assert normalise_level(str(number), numeric="otlp") is expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("TRACE", T),
        ("DEBUG4", D),
        ("INFO2", I),
        ("WARN2", W),
        ("error3", E),
        ("FATAL4", F),
        ("SEVERITY_NUMBER_WARN", W),
        ("SEVERITY_NUMBER_ERROR4", E),
    ],
)
def test_opentelemetry_short_names_normalise(given: str, expected: Level) -> None:
    assert normalise_level(given) is expected


@pytest.mark.parametrize(
    ("given", "numeric"),
    [
        ("", "syslog"),
        ("   ", "syslog"),
        ("loud", "syslog"),
        ("warn5", "syslog"),
        ("8", "syslog"),
        (8, "syslog"),
        (-1, "syslog"),
        (30, "syslog"),  # pino's info: not a syslog number, so refused rather than guessed
        (0, "otlp"),
        (25, "otlp"),
        (True, "syslog"),
        (None, "syslog"),
        (3.5, "syslog"),
        (float("nan"), "syslog"),
        ([], "syslog"),
        ({"level": "info"}, "syslog"),
        (b"info", "syslog"),
        ("x" * 10_000, "syslog"),
    ],
)
def test_unknown_levels_raise_value_error_only(given: object, numeric: str) -> None:
    with pytest.raises(ValueError) as caught:
        normalise_level(given, numeric=numeric)  # type: ignore[arg-type]
    assert len(str(caught.value)) < 300  # a huge input is not echoed back


def test_integral_floats_are_numbers() -> None:
    assert normalise_level(3.0) is E


def test_levels_compare_by_severity_not_alphabetically() -> None:
    assert Level.ERROR > Level.WARNING
    assert Level.TRACE < Level.DEBUG <= Level.DEBUG
    assert Level.FATAL >= Level.CRITICAL
    assert sorted([F, W, T, E, I]) == [T, I, W, E, F]
    assert [level.rank for level in Level] == list(range(8))


def test_levels_serialise_as_plain_words() -> None:
    assert str(Level.WARNING) == "warning"
    assert Level("error") is E


@pytest.mark.parametrize(
    ("level", "number"),
    [(T, 1), (D, 5), (I, 9), (N, 10), (W, 13), (E, 17), (C, 18), (F, 21)],
)
def test_levels_export_to_otlp_within_their_block(level: Level, number: int) -> None:
    assert otlp_severity_number(level) == number
    assert level_from_otlp(number).rank <= level.rank  # notice/critical fold into their block


@pytest.mark.parametrize(
    ("level", "number"),
    [(T, 7), (D, 7), (I, 6), (N, 5), (W, 4), (E, 3), (C, 2), (F, 0)],
)
def test_levels_export_to_syslog(level: Level, number: int) -> None:
    assert syslog_severity(level) == number
