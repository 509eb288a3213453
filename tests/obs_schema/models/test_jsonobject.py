"""Bounded JSON: nested attributes pass; oversized or non-JSON values are refused with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from obs_schema.models.jsonobject import JsonObject

json_objects = TypeAdapter(JsonObject)


def test_json_objects_accept_nested_json() -> None:
    value = {"a": [1, 2.5, "x", None, True, {"b": {"c": ["d"]}}], "ü": "ünïcødé 🎬"}
    assert json_objects.validate_python(value) == value


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}, "deeper"),
        ({"a": list(range(3000))}, "values"),
        ({f"k{i}": "x" * 16_000 for i in range(5)}, "characters"),
        ({"a": "x" * 20_000}, "longer"),
        ({"k" * 300: 1}, "longer"),
        ({"a": float("nan")}, "NaN"),
        ({"a": float("inf")}, "NaN"),
        ({"a": 2**64}, "64-bit"),
        ({"a": b"bytes"}, "not a JSON value"),
        ({"a": {1: "int key"}}, "keys must be strings"),
        ({"a": "\udc00"}, "surrogate"),
        ({"a": object()}, "not a JSON value"),
    ],
)
def test_json_objects_over_budget_are_refused_with_a_reason(given: Any, complaint: str) -> None:
    with pytest.raises(ValidationError) as caught:
        json_objects.validate_python(given)
    assert complaint in str(caught.value)
