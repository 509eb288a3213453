"""Bounded JSON objects (log and span attributes, evidence, attribution).

The whole document is walked once with one allowance for depth, number of values and
characters, so an oversized object is a validation error naming where it went over - never a
memory blow-up or a storage failure later. Only `ValueError` is raised (pydantic reports it).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, WithJsonSchema

from obs_schema.models.fields import utf8_size

__all__ = ["JsonObject", "check_json_object"]

MAX_JSON_DEPTH = 8
MAX_JSON_VALUES = 2048
MAX_JSON_KEY_CHARS = 256
MAX_JSON_STRING_CHARS = 16 * 1024
MAX_JSON_TOTAL_CHARS = 64 * 1024
_INT64 = 2**63


class _Budget:
    """What is left of one JSON document's allowance while it is walked."""

    def __init__(self) -> None:
        self.values = MAX_JSON_VALUES
        self.chars = MAX_JSON_TOTAL_CHARS

    def spend(self, path: str, values: int = 1, chars: int = 0) -> None:
        self.values -= values
        self.chars -= chars
        if self.values < 0:
            raise ValueError(f"more than {MAX_JSON_VALUES} values in total (at {path})")
        if self.chars < 0:
            raise ValueError(f"more than {MAX_JSON_TOTAL_CHARS} characters in total (at {path})")


def _check_text(text: str, limit: int, path: str, budget: _Budget) -> None:
    if len(text) > limit:
        raise ValueError(f"{path}: a string longer than {limit} characters")
    budget.spend(path, values=0, chars=len(text))
    utf8_size(text, path)


def _check_scalar(value: object, path: str) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        if not -_INT64 <= value < _INT64:
            raise ValueError(f"{path}: integer outside the 64-bit range")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path}: NaN and infinity are not JSON numbers")
    else:
        raise ValueError(f"{path}: {type(value).__name__} is not a JSON value")


def _walk(value: object, depth: int, path: str, budget: _Budget) -> None:
    budget.spend(path)
    if isinstance(value, str):
        _check_text(value, MAX_JSON_STRING_CHARS, path, budget)
    elif isinstance(value, dict | list | tuple):
        if depth >= MAX_JSON_DEPTH:
            raise ValueError(f"{path}: nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise ValueError(f"{path}: object keys must be strings")
                _check_text(key, MAX_JSON_KEY_CHARS, f"{path}.{key[:32]}", budget)
                _walk(item, depth + 1, f"{path}.{key[:32]}", budget)
        else:
            for index, item in enumerate(value):
                _walk(item, depth + 1, f"{path}[{index}]", budget)
    else:
        _check_scalar(value, path)


def check_json_object(value: dict[str, Any]) -> dict[str, Any]:
    """Validate a nested JSON object against the shared budget; returns it unchanged."""
    _walk(value, 0, "$", _Budget())
    return value


JsonObject = Annotated[
    dict[str, Any],
    AfterValidator(check_json_object),
    WithJsonSchema(
        {
            "type": "object",
            "additionalProperties": True,
            "description": (
                f"Nested JSON: at most {MAX_JSON_DEPTH} levels, {MAX_JSON_VALUES} values, "
                f"{MAX_JSON_STRING_CHARS} characters per string and "
                f"{MAX_JSON_TOTAL_CHARS} in total; integers within 64 bits."
            ),
        }
    ),
]
"""A JSON object of bounded size, e.g. log or span attributes."""
