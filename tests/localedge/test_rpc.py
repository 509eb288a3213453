"""Values crossing an RPC boundary are deep copies, and only what Cloudflare can send crosses."""

from __future__ import annotations

import dataclasses
import enum
from datetime import UTC, date, datetime
from typing import Any

import pydantic
import pytest

from localedge.errors import RpcError
from localedge.rpc import decode_value, encode_value, to_wire
from localedge.sdk import Request

WHEN = datetime(2026, 1, 1, 12, 30, tzinfo=UTC)


class Level(enum.IntEnum):
    HIGH = 3


class Model(pydantic.BaseModel):
    name: str


@dataclasses.dataclass
class Record:
    name: str


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        (42, 42),
        (1.5, 1.5),
        ("text", "text"),
        (b"\x00\xff", b"\x00\xff"),
        (memoryview(b"view"), b"view"),
        (WHEN, WHEN),
        (Level.HIGH, 3),
        ([1, [2, {"a": None}]], [1, [2, {"a": None}]]),
        ({"nested": {"list": [b"x", WHEN]}}, {"nested": {"list": [b"x", WHEN]}}),
    ],
)
def test_allowed_values_cross_unchanged(value: Any, expected: Any) -> None:
    crossed = to_wire(value)
    assert crossed == expected
    assert type(crossed) is type(expected)


def test_the_receiver_gets_a_deep_copy_it_can_mutate_freely() -> None:
    original = {"tags": ["a"], "meta": {"n": 1}}
    crossed = to_wire(original)
    crossed["tags"].append("b")
    crossed["meta"]["n"] = 2
    assert original == {"tags": ["a"], "meta": {"n": 1}}


def test_shared_references_and_cycles_survive_as_in_structured_clone() -> None:
    shared = [1]
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    crossed = to_wire({"a": shared, "b": shared, "loop": cyclic})
    assert crossed["a"] is crossed["b"]
    assert crossed["a"] is not shared
    assert crossed["loop"][0] is crossed["loop"]


async def _pending() -> int:
    return 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ((1, 2), "<class 'tuple'> cannot be sent over RPC."),
        ({"point": (1, 2)}, "<class 'tuple'> cannot be sent over RPC."),
        (bytearray(b"x"), "<class 'bytearray'> cannot be sent over RPC."),
        ({1, 2}, "<class 'set'> cannot be sent over RPC."),
        (frozenset({1}), "<class 'frozenset'> cannot be sent over RPC."),
        (
            Model(name="x"),
            'Could not serialize object of type "Model". This type does not support serialization.',
        ),
        (
            [Record(name="x")],
            'Could not serialize object of type "Record". This type does not support '
            "serialization.",
        ),
        (
            object(),
            'Could not serialize object of type "object". This type does not support '
            "serialization.",
        ),
        (
            date(2026, 1, 1),
            "<class 'datetime.date'> cannot be sent over RPC; send a datetime or an ISO string.",
        ),
        ({1: "one"}, "Dict keys must be str to be sent over RPC, got <class 'int'>."),
    ],
)
def test_values_cloudflare_cannot_send_are_refused(value: Any, message: str) -> None:
    with pytest.raises(RpcError) as refused:
        to_wire(value)
    assert str(refused.value) == message


def test_an_unawaited_coroutine_is_refused() -> None:
    pending = _pending()
    try:
        with pytest.raises(RpcError) as refused:
            to_wire({"result": pending})
        assert str(refused.value) == "Awaitable <class 'coroutine'> cannot be sent over RPC."
    finally:
        pending.close()


@pytest.mark.parametrize(
    "value",
    [
        None,
        "plain",
        [1, 2.5, True, None],
        {"blob": b"\x00\x01", "at": WHEN, "naive": datetime(2026, 1, 1)},
        {"$bytes": "not really bytes"},
        {"$date": "2026"},
        {"$dict": ["a", 1]},
        {"$only": {"$nested": b"x"}},
        {"$a": 1, "$b": 2},
        [{"$k": 1}, {"deep": {"$k": {"b": None}}}],
        {"text": '{"$bytes": "aGk="} is only text here'},
    ],
)
def test_the_stored_form_round_trips_exactly(value: Any) -> None:
    assert decode_value(encode_value(value)) == value


def test_the_stored_form_is_compact_tagged_json() -> None:
    assert encode_value({"b": b"hi", "$k": 1}) == '{"b":{"$bytes":"aGk="},"$k":1}'
    assert encode_value({"$k": 1}) == '{"$dict":["$k",1]}'


def test_values_that_may_cross_but_not_be_stored_are_refused() -> None:
    with pytest.raises(RpcError, match="does not support serialization"):
        encode_value({"request": Request("https://x/")})
