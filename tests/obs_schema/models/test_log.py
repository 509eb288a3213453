"""LogRecord: what a log line may look like on the way in, and what it becomes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from obs_schema.models import Level, LogRecord
from obs_schema.models.log import MAX_MESSAGE_BYTES

BASE = {"message": "payment declined", "service": "billing"}
MISSING = object()
TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"


def record(**fields: Any) -> LogRecord:
    return LogRecord.model_validate({**BASE, **fields})


def test_a_minimal_record_gets_defaults() -> None:
    log = LogRecord.model_validate(BASE)
    assert log.model_dump() == {
        "timestamp": None,
        "level": Level.INFO,
        "severity_number": None,
        "message": "payment declined",
        "service": "billing",
        "trace_id": None,
        "span_id": None,
        "attributes": {},
    }


def test_a_full_record_answers_in_canonical_json() -> None:
    log = record(
        timestamp="2026-11-27T11:00:00.5+01:00",
        level="WARN",
        trace_id=TRACE.upper(),
        span_id=SPAN.upper(),
        attributes={"http": {"status": 402, "route": "/pay"}, "tags": ["a", "b"]},
    )
    assert log.model_dump(mode="json") == {
        "timestamp": "2026-11-27T10:00:00.500Z",
        "level": "warning",
        "severity_number": None,
        "message": "payment declined",
        "service": "billing",
        "trace_id": TRACE,
        "span_id": SPAN,
        "attributes": {"http": {"status": 402, "route": "/pay"}, "tags": ["a", "b"]},
    }


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("warn", Level.WARNING),
        ("Warning", Level.WARNING),
        ("err", Level.ERROR),
        ("crit", Level.CRITICAL),
        ("emerg", Level.FATAL),
        ("NOTICE", Level.NOTICE),
        ("INFO2", Level.INFO),
        (3, Level.ERROR),  # syslog
        ("7", Level.DEBUG),  # syslog, as text
        (0, Level.FATAL),
    ],
)
def test_levels_are_normalised(level: object, expected: Level) -> None:
    assert record(level=level).level is expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1, Level.TRACE),
        (8, Level.DEBUG),
        (9, Level.INFO),
        (16, Level.WARNING),
        (17, Level.ERROR),
        (20, Level.ERROR),
        (21, Level.FATAL),
        (24, Level.FATAL),
    ],
)
def test_an_otlp_severity_number_sets_the_level_when_no_level_is_given(
    number: int, expected: Level
) -> None:
    log = record(severity_number=number)
    assert (log.level, log.severity_number) == (expected, number)


def test_an_explicit_level_wins_over_the_severity_number() -> None:
    assert record(level="info", severity_number=21).level is Level.INFO


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"time": 1795773600000}, {"timestamp": datetime(2026, 11, 27, 10, tzinfo=UTC)}),
        (
            {"@timestamp": "2026-11-27T10:00:00Z"},
            {"timestamp": datetime(2026, 11, 27, 10, tzinfo=UTC)},
        ),
        ({"ts": "1795773600000"}, {"timestamp": datetime(2026, 11, 27, 10, tzinfo=UTC)}),
        ({"msg": "from pino", "message": None}, {"message": "from pino"}),
        ({"severity": "err"}, {"level": Level.ERROR}),
        ({"trace_id": "", "span_id": ""}, {"trace_id": None, "span_id": None}),
    ],
)
def test_common_logger_spellings_are_understood(
    given: dict[str, Any], expected: dict[str, Any]
) -> None:
    data = {**BASE, **given}
    data = {key: value for key, value in data.items() if value is not None}
    dumped = LogRecord.model_validate(data).model_dump()
    assert {key: dumped[key] for key in expected} == expected


def test_unknown_top_level_keys_are_kept_as_attributes() -> None:
    log = record(user="u-17", hostname="web-1", attributes={"user": "explicit wins"})
    assert log.attributes == {"user": "explicit wins", "hostname": "web-1"}


@pytest.mark.parametrize(
    "message",
    [
        "",
        "🎬 pitch accepted",
        "支付被拒绝",
        "تم رفض الدفع",
        "e\u0301 combining",
        "line one\nline two\ttabbed",
        "€" * (MAX_MESSAGE_BYTES // 3),
    ],
)
def test_unicode_messages_pass_through_unchanged(message: str) -> None:
    assert record(message=message).message == message


def test_unicode_service_names_are_allowed_and_trimmed() -> None:
    assert record(service="  café-服务 ").service == "café-服务"


INVALID: list[tuple[str, dict[str, Any]]] = [
    ("message", {"message": MISSING}),
    ("message", {"message": None}),
    ("message", {"message": 42}),
    ("message", {"message": "x" * (MAX_MESSAGE_BYTES + 1)}),
    ("message", {"message": "€" * (MAX_MESSAGE_BYTES // 3 + 1)}),  # short in chars, long in bytes
    ("message", {"message": "unpaired \ud800"}),
    ("service", {"service": ""}),
    ("service", {"service": "   "}),
    ("service", {"service": "a\nb"}),
    ("service", {"service": "s" * 257}),
    ("level", {"level": "loud"}),
    ("level", {"level": 8}),
    ("level", {"level": None}),
    ("level", {"level": ["info"]}),
    ("severity_number", {"severity_number": 0}),
    ("severity_number", {"severity_number": 25}),
    ("trace_id", {"trace_id": TRACE[:-1]}),
    ("trace_id", {"trace_id": "z" * 32}),
    ("trace_id", {"trace_id": "0" * 32}),
    ("span_id", {"span_id": TRACE}),
    ("span_id", {"span_id": "0" * 16}),
    ("timestamp", {"timestamp": "yesterday"}),
    ("timestamp", {"timestamp": 1e20}),
    ("attributes", {"attributes": "not an object"}),
    ("attributes", {"attributes": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {}}}}}}}}}}),
    ("attributes", {"attributes": {"n": float("nan")}}),
]


@pytest.mark.parametrize(("field", "change"), INVALID)
def test_invalid_records_name_the_field(field: str, change: dict[str, Any]) -> None:
    data = {key: value for key, value in {**BASE, **change}.items() if value is not MISSING}
    with pytest.raises(ValidationError) as caught:
        LogRecord.model_validate(data)
    assert field in {str(error["loc"][0]) for error in caught.value.errors()}


def test_a_huge_record_is_refused_without_echoing_it_in_full() -> None:
    with pytest.raises(ValidationError) as caught:
        record(message="x" * 5_000_000)
    assert len(str(caught.value)) < 2_000


def test_records_parse_from_json_bytes() -> None:
    raw = b'{"level":"warn","message":"\\u00e9t\\u00e9","service":"api","ts":1795773600000}'
    log = LogRecord.model_validate_json(raw)
    assert (log.level, log.message, log.timestamp) == (
        Level.WARNING,
        "été",
        datetime(2026, 11, 27, 10, tzinfo=UTC),
    )
