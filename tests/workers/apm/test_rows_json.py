"""Span attributes are stored as the JSON `json.dumps` writes, through a reused C encoder."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apm import rows

VALUES: list[Any] = [
    {},
    {"http.route": "/pitches/{id}", "http.response.status_code": 200, "ok": True},
    {"ratio": 0.1, "big": 2**70, "neg": -1.5e-300, "nan": float("nan"), "inf": float("-inf")},
    {"unicode": "żółć ✓ \U0001f600", "controls": 'a"b\\c\n\t\x00\u2028', "none": None},
    {"nested": {"list": [1, [2, {"deep": [None, False]}]], "empty": {}}, 3: "int key"},
    [1, "two", 3.0],
    "just a string",
]


@pytest.mark.parametrize("value", VALUES)
def test_the_stored_json_is_what_json_dumps_writes(value: Any) -> None:
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert rows._json(value) == expected
    assert rows._json(value) == expected  # the shared encoder keeps no state between calls


def test_values_json_cannot_hold_are_refused() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        rows._json({"raw": b"bytes"})
