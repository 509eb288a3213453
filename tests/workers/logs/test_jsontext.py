"""JSON on the ingest path: wherever orjson disagrees with the stdlib `json`, the stdlib's answer
is the one users get (same records accepted, same reasons, same stored text). Bodies are parsed
by `json` (see `jsontext`); the body cases pin what a faster parser would have to keep."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from logs import jsontext
from logs.attributes import AttributeCodec
from logs.intake import BadLine, BodyError, normalise, records_of
from logs.rejection import RecordError
from logs.rows import chunks
from obs_schema.scrubbing import Scrubber

NOW = 1_795_773_600_000
GOOD = b'{"message": "ok", "service": "api"}'
MAX = str(2**63 - 1)


def outcomes(body: bytes, content_type: str = "application/json") -> list[str]:
    """Each record's fate: its stored attributes, or the reason it was refused."""
    codec = AttributeCodec(Scrubber())
    found: list[str] = []
    for item in records_of(body, content_type):
        if isinstance(item, BadLine):
            found.append(item.reason)
            continue
        try:
            found.append(str(normalise(item, NOW, codec).stored_attributes))
        except RecordError as error:
            found.append(str(error))
    return found


@pytest.mark.parametrize(
    "body",
    [
        b'[{"a": NaN}, {"b": Infinity}, {"c": -Infinity}]',  # literals orjson refuses
        b'[{"a": 1e400}]',  # beyond a double: json gives inf, orjson refuses
        b'[{"a": "\\ud800"}, {"b": "\\udfff x"}]',  # escaped lone surrogates
        "\ufeff[1]".encode(),  # a UTF-8 byte order mark
        '[{"a": "é"}]'.encode("utf-16"),  # json detects UTF-16 and UTF-32
        '[{"a": "é"}]'.encode("utf-32-le"),
        b'[{"a": 18446744073709551616}]',  # beyond u64: orjson would give a float
        b'[{"a": -9223372036854775809}]',  # below i64: the same
        b'[{"a": 123456789012345678901234567890}]',
        b'[{"a": 18446744073709551615, "b": -9223372036854775808}]',  # the edges orjson keeps
        b'{"logs": [{"a": 1.5e300, "b": 1e-7, "c": -0.0}]}',
    ],
)
def test_bodies_parse_to_the_stdlib_values(body: bytes) -> None:
    expected = json.loads(body)
    got = records_of(body, "application/json")
    assert repr(got) == repr(expected if isinstance(expected, list) else expected["logs"])


def test_integers_beyond_64_bits_stay_integers_and_are_refused_as_before() -> None:
    body = b"[" + GOOD[:-1] + b', "attributes": {"n": 18446744073709551616}}, ' + GOOD + b"]"
    records = records_of(body, "application/json")
    assert type(records[0]["attributes"]["n"]) is int
    assert outcomes(body) == ["attributes.n: integer outside the 64-bit range", "None"]


def test_nan_in_one_record_does_not_lose_the_others() -> None:
    body = b"[" + GOOD[:-1] + b', "attributes": {"x": NaN}}, ' + GOOD + b"]"
    assert outcomes(body) == ["attributes.x: NaN and infinity are not JSON numbers", "None"]


def test_ndjson_lines_orjson_refuses_are_read_by_the_stdlib() -> None:
    body = b"\n".join(
        [GOOD[:-1] + b', "attributes": {"x": Infinity}}', b"{nope", GOOD[:-1] + b', "n": 1}']
    )
    assert outcomes(body, "application/x-ndjson") == [
        "attributes.x: NaN and infinity are not JSON numbers",
        "line 2 is not valid JSON",
        '{"n":1}',
    ]


@pytest.mark.parametrize("body", [b"[1,]", b"{", b'[{"a": 1} x]', b"\xff[]", b""])
def test_unreadable_bodies_are_explained_as_the_stdlib_explains_them(body: bytes) -> None:
    try:
        json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        expected = f"request body is not valid JSON: {error}"
    with pytest.raises(BodyError) as raised:
        records_of(body, "application/json")
    assert str(raised.value) == expected


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ({"a": 1e16}, '{"a":1e+16}'),  # orjson: 1e16
        ({"a": 1.25e-5}, '{"a":1.25e-05}'),  # orjson: 0.0000125
        ({"a": 5e-324, "b": -1.5e300}, '{"a":5e-324,"b":-1.5e+300}'),
        ({"a": None, "b": [True, False]}, '{"a":null,"b":[true,false]}'),
        ({"a": 0.0001, "b": 100.0, "c": 2**63 - 1}, '{"a":0.0001,"b":100.0,"c":' + MAX + "}"),
    ],
)
def test_stored_attributes_are_the_stdlib_text(value: dict[str, Any], stored: str) -> None:
    codec = AttributeCodec(Scrubber())
    assert codec.encode(value) == stored == jsontext.stdlib_text(value)
    assert codec.encode(json.loads(stored)) == stored  # and so is a repeat's


def test_nan_is_refused_after_a_null_that_orjson_writes_alike() -> None:
    codec = AttributeCodec(Scrubber())
    assert codec.encode({"a": None}) == '{"a":null}'
    with pytest.raises(RecordError, match="NaN and infinity"):
        codec.encode({"a": math.inf})
    with pytest.raises(RecordError, match="NaN and infinity"):
        codec.encode({"a": float("nan")})


def test_values_orjson_refuses_are_refused_for_the_same_reason() -> None:
    codec = AttributeCodec(Scrubber())
    with pytest.raises(RecordError, match=r"attributes\.a: an unpaired surrogate"):
        codec.encode({"a": "x\udc00"})
    with pytest.raises(RecordError, match=r"attributes\.a: integer outside"):
        codec.encode({"a": -(2**63) - 1})


def _row(service: str, message: str) -> list[Any]:
    return [NOW, NOW, 2, service, None, "ab" * 8, "f" * 16, message, '{"k":"v"}', "http", "e"]


def test_chunk_rows_are_the_stdlib_text() -> None:
    rows = [
        _row("api", 'quote " backslash \\ nul \x00 del \x7f line\u2028 é 😀 \ufeff'),
        _row("svc\udc80", "a lone surrogate orjson refuses"),  # the stdlib writes it as is
    ]
    for row in rows:
        text = chunks([row])[0]["rows"]
        expected = [[NOW, 2, row[3], None, "ab" * 8, "f" * 16, row[7], '{"k":"v"}']]
        assert text == json.dumps(expected, separators=(",", ":"), ensure_ascii=False)
