"""Record validation at ingest speed, with the rules of the shared LogRecord model."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from pydantic import ValidationError

from logs.attributes import AttributeCodec
from logs.intake import BadLine, BodyError, Entry, _general, normalise, records_of
from logs.rejection import RecordError
from obs_schema.models.log import LogRecord
from obs_schema.scrubbing import Scrubber
from obs_schema.severity import Level

NOW = 1_795_773_600_000
BASE = {"message": "payment declined", "service": "billing"}


def entry(**fields: Any) -> Entry:
    return normalise({**BASE, **fields}, NOW, AttributeCodec(Scrubber()))


@pytest.mark.parametrize(
    ("fields", "ts"),
    [
        ({}, NOW),
        ({"timestamp": "2026-11-27T11:00:00.5+01:00"}, NOW + 500),
        ({"timestamp": "2026-11-27t10:00:00z"}, NOW),
        ({"timestamp": "2026-11-27 10:00:00"}, NOW),  # no offset: UTC
        ({"timestamp": "2026-11-27T10:00:00.123456789Z"}, NOW + 123),
        ({"timestamp": NOW + 7}, NOW + 7),
        ({"timestamp": (NOW + 7000) / 1000}, NOW + 7000),  # epoch seconds
        ({"timestamp": str(NOW)}, NOW),
        ({"time": NOW + 1}, NOW + 1),
        ({"ts": NOW + 2}, NOW + 2),
        ({"@timestamp": "2026-11-27T10:00:01Z"}, NOW + 1000),
    ],
)
def test_timestamps(fields: dict[str, Any], ts: int) -> None:
    assert entry(**fields).ts == ts


@pytest.mark.parametrize(
    ("fields", "level"),
    [
        ({}, Level.INFO),
        ({"level": "warn"}, Level.WARNING),
        ({"level": "CRIT"}, Level.CRITICAL),
        ({"level": 3}, Level.ERROR),  # syslog
        ({"level": "WARN2"}, Level.WARNING),
        ({"severity": "emerg"}, Level.FATAL),
        ({"severity_number": 17}, Level.ERROR),  # OpenTelemetry, when no level is given
        ({"level": "debug", "severity_number": 17}, Level.DEBUG),
    ],
)
def test_levels(fields: dict[str, Any], level: Level) -> None:
    assert entry(**fields).level == level.rank


def test_unknown_keys_fold_into_attributes_and_ids_are_lower_cased() -> None:
    got = entry(
        msg="x",
        user="u1",
        attributes={"user": "explicit", "n": 1},
        trace_id="5B8EFFF798038103D269B633813FC60C",
        span_id="",
    )
    assert got.message == "payment declined"  # `message` wins over `msg`
    assert got.attributes == {"user": "explicit", "n": 1}
    assert got.trace_id == "5b8efff798038103d269b633813fc60c" and got.span_id is None
    assert entry(user="u1").attributes == {"user": "u1"}


BAD: list[tuple[object, str]] = [
    ([1], "a record must be a JSON object, not an array"),
    ({"service": "x"}, "message is required"),
    ({"message": None, "service": "x"}, "message is required"),
    ({"message": ["x"], "service": "x"}, "message must be a string, not an array"),
    ({"message": "x"}, "service is required"),
    ({"message": "x", "service": "  "}, "service must be 1-256 printable characters"),
    ({"message": "x", "service": "a\nb"}, "service must be 1-256 printable characters"),
    ({"message": "x", "service": "s" * 257}, "service must be 1-256 printable characters"),
    ({**BASE, "level": "loud"}, "level: unknown log level 'loud'"),
    ({**BASE, "level": 9}, "level: syslog severity must be 0-7, got 9"),
    ({**BASE, "severity_number": 30}, "severity_number must be an integer 1-24"),
    ({**BASE, "timestamp": "2026-11-27"}, "timestamp '2026-11-27' is not RFC 3339"),
    (
        {**BASE, "timestamp": "2026-13-27T10:00:00Z"},
        "timestamp '2026-13-27T10:00:00Z' is not a valid",
    ),
    ({**BASE, "timestamp": True}, "timestamp must be RFC 3339 or epoch milliseconds"),
    ({**BASE, "timestamp": -5}, "timestamp is outside the years 1970-9999"),
    ({**BASE, "trace_id": "xyz"}, "trace_id must be 32 hex digits"),
    ({**BASE, "trace_id": "0" * 32}, "an all-zero trace_id is invalid"),
    ({**BASE, "span_id": "abc"}, "span_id must be 16 hex digits"),
    ({**BASE, "attributes": "x"}, "attributes must be a JSON object"),
    (
        {**BASE, "attributes": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {}}}}}}}}}},
        "attributes.a.b.c.d.e.f.g.h: nested deeper than 8 levels",
    ),
    ({**BASE, "attributes": {"a": "x" * 16385}}, "attributes.a: a string longer than 16384"),
    ({**BASE, "attributes": {"a": 2**64}}, "attributes.a: integer outside the 64-bit range"),
    ({**BASE, "attributes": {"a": float("nan")}}, "attributes.a: NaN and infinity"),
    ({**BASE, "attributes": {str(i): i for i in range(2049)}}, "attributes: more than 2048 values"),
    ({**BASE, "message": "\ud800"}, "message contains an unpaired surrogate"),
    ({"message": "x", "service": "api\udc00"}, "service contains an unpaired surrogate"),
    ({**BASE, "message": "é" * 16385}, "message is 32770 bytes; the limit is 32768"),
]


@pytest.mark.parametrize(("item", "reason"), BAD)
def test_bad_records_are_refused_with_the_reason(item: object, reason: str) -> None:
    with pytest.raises(RecordError) as raised:
        normalise(item, NOW, AttributeCodec(Scrubber()))
    assert str(raised.value).startswith(reason)


GOOD: list[tuple[object, str]] = [
    (dict(BASE, **fields), "")
    for fields in (
        {"level": "warn"},
        {"timestamp": NOW},
        {"msg": "x", "extra": 1},
        {"trace_id": ""},
    )
]
# Where ingest is deliberately stricter than the model: it stores times as epoch ms from 1970.
STRICTER = ("timestamp must be RFC 3339 or epoch milliseconds, not", "timestamp is outside")


@pytest.mark.parametrize(
    ("item", "reason"), [case for case in BAD + GOOD if not case[1].startswith(STRICTER)]
)
def test_the_shared_model_accepts_and_refuses_the_same_records(item: object, reason: str) -> None:
    try:
        LogRecord.model_validate(item)
        model_ok = True
    except ValidationError:
        model_ok = False
    assert model_ok is (reason == "")


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b'[{"a": 1}, 2]', "application/json", [{"a": 1}, 2]),
        (b'{"logs": [{"a": 1}]}', "application/json; charset=utf-8", [{"a": 1}]),
        (b'{"a": 1}', "application/json", [{"a": 1}]),
        (
            b'{"a": 1}\n\nnope\n[2]\n',
            "application/x-ndjson",
            [{"a": 1}, BadLine("line 3 is not valid JSON"), [2]],
        ),
    ],
)
def test_bodies(body: bytes, content_type: str, expected: list[object]) -> None:
    assert records_of(body, content_type) == expected


@pytest.mark.parametrize("body", [b"{", b'{"logs": 3}', b"3", json.dumps("x").encode()])
def test_unreadable_bodies(body: bytes) -> None:
    with pytest.raises(BodyError):
        records_of(body, "application/json")


# Values of each known key, usual and not: `normalise`'s quick road must give what the
# general one gives (the same entry, or the same first error) for every mix of them.
_FIELD_VALUES: dict[str, list[object]] = {
    "timestamp": [
        NOW,
        10**11 - 1,
        10**11,
        253402300800000 - 1,
        253402300800000,
        -1,
        True,
        1.5e12,
        "2026-11-27T10:00:00Z",
        None,
        "soon",
    ],
    "time": [NOW + 5, None],
    "level": ["info", "INFO", "warn", "loud", 3, 9, None, True, ["x"], ""],
    "severity": ["error", None],
    "severity_number": [17, 30, None],
    "service": ["api", " api ", "", "a\nb", "s" * 257, None, 5, ["x"], "é", "a\udc00"],
    "message": ["ok", "é ok", "\ud800", "x" * 8193, "é" * 16385, None, 7, ""],
    "msg": ["fallback", None],
    "trace_id": ["5B8EFFF798038103D269B633813FC60C", "", "0" * 32, "xyz", None, 12],
    "span_id": ["00f067aa0ba902b7", "", "abc", None],
    "attributes": [{"a": 1}, {}, None, "x", {"a": float("nan")}, {"b": {"c": [1, "x"]}}],
}
_MISSING = object()


def _outcome(run: Any, item: object) -> object:
    try:
        return run(item, NOW, AttributeCodec(Scrubber()))
    except RecordError as error:
        return f"refused: {error}"


def test_the_quick_road_agrees_with_the_general_one() -> None:
    rng = random.Random(5)
    for _ in range(4000):
        item = {}
        for key, values in _FIELD_VALUES.items():
            value = rng.choice([*values, _MISSING, _MISSING])
            if value is not _MISSING:
                item[key] = value
        assert _outcome(normalise, item) == _outcome(_general, item), item


def test_usual_records_take_the_quick_road_with_the_general_answers() -> None:
    usual = {"timestamp": NOW, "level": "info", "service": "api", "message": "ok"}
    for item in (usual, {**usual, "trace_id": "ab" * 16, "attributes": {"k": "v"}}):
        entry(**item)  # the level and the service are remembered from here on
        assert _outcome(normalise, item) == _outcome(_general, item)
