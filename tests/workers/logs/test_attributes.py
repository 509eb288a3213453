"""Attributes to their stored JSON: checked, scrubbed, and repeats answered from memory."""

from __future__ import annotations

import json

import pytest

from logs.attributes import AttributeCodec
from logs.rejection import RecordError
from obs_schema.scrubbing import Scrubber, ScrubConfig


@pytest.fixture
def codec() -> AttributeCodec:
    return AttributeCodec(Scrubber(ScrubConfig(key=b"k")))


def test_no_attributes_store_nothing(codec: AttributeCodec) -> None:
    assert codec.encode({}) is None


def test_clean_attributes_are_stored_as_compact_json(codec: AttributeCodec) -> None:
    value = {"http": {"route": "/pitches/{id}", "status": 200}, "région": "eu", "ok": True}
    stored = codec.encode(value)
    assert stored == '{"http":{"route":"/pitches/{id}","status":200},"région":"eu","ok":true}'
    assert codec.encode(json.loads(stored)) == stored  # a repeat answers the same


def test_repeated_secrets_are_scrubbed_every_time(codec: AttributeCodec) -> None:
    value = {"password": "hunter2", "email": "alice@example.com"}
    first = codec.encode(value)
    again = codec.encode({"password": "hunter2", "email": "alice@example.com"})
    assert first == again
    assert first is not None and "hunter2" not in first and "alice@" not in first
    assert json.loads(first)["password"].startswith("[secret:")


def test_a_refused_value_is_refused_again(codec: AttributeCodec) -> None:
    deep = {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {}}}}}}}}}
    for _ in range(2):
        with pytest.raises(RecordError, match="nested deeper than 8 levels"):
            codec.encode(deep)


def test_values_json_cannot_hold_are_refused_with_the_reason(codec: AttributeCodec) -> None:
    with pytest.raises(RecordError, match="NaN and infinity"):
        codec.encode({"a": float("nan")})
    with pytest.raises(RecordError, match="unpaired surrogate"):
        codec.encode({"a": "\ud800"})


def test_equal_looking_values_of_other_types_are_kept_apart(codec: AttributeCodec) -> None:
    assert codec.encode({"a": 1}) == '{"a":1}'
    assert codec.encode({"a": True}) == '{"a":true}'
    assert codec.encode({"a": 1.0}) == '{"a":1.0}'
    assert codec.encode({"a": "1"}) == '{"a":"1"}'
