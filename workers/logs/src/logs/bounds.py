"""Size limits of record attributes, checked in one walk (the limits of `models.jsonobject`).

A record whose attributes are too deep, too many or too long is refused with the place where
it went over - never stored half-way, never a storage error later.
"""

from __future__ import annotations

import math
from typing import Any

from logs.rejection import RecordError

MAX_DEPTH = 8
MAX_VALUES = 2048
MAX_KEY_CHARS = 256
MAX_STRING_CHARS = 16 * 1024
MAX_TOTAL_CHARS = 64 * 1024
_INT64 = 2**63


class AttributeBounds:
    """Checks a record's attributes in one walk; only a refusal pays for naming the place."""

    def check(self, value: dict[str, Any]) -> None:
        budget = [MAX_VALUES, MAX_TOTAL_CHARS]
        if not self._fits(value, 0, budget):
            self._walk(value, 0, "attributes", [MAX_VALUES, MAX_TOTAL_CHARS])

    def _fits(self, value: Any, depth: int, budget: list[int]) -> bool:
        """The fast walk: True when within every limit (no paths built)."""
        budget[0] -= 1
        if isinstance(value, str):
            budget[1] -= len(value)
            return (
                len(value) <= MAX_STRING_CHARS
                and budget[1] >= 0
                and budget[0] >= 0
                and (value.isascii() or _encodes(value))
            )
        if isinstance(value, dict):
            if depth >= MAX_DEPTH or budget[0] < 0:
                return False
            for key, item in value.items():
                budget[1] -= len(key)
                if len(key) > MAX_KEY_CHARS or not (key.isascii() or _encodes(key)):
                    return False
                if not self._fits(item, depth + 1, budget):
                    return False
            return budget[1] >= 0
        if isinstance(value, list):
            return depth < MAX_DEPTH and all(self._fits(item, depth + 1, budget) for item in value)
        if isinstance(value, float):
            return math.isfinite(value) and budget[0] >= 0
        if isinstance(value, int) and not isinstance(value, bool):
            return -_INT64 <= value < _INT64 and budget[0] >= 0
        return budget[0] >= 0

    def _walk(self, value: Any, depth: int, path: str, budget: list[int]) -> None:
        """The slow walk, run only to say where a refused value went over."""
        budget[0] -= 1
        if budget[0] < 0:
            raise RecordError(f"attributes: more than {MAX_VALUES} values")
        if isinstance(value, str):
            self._text(value, MAX_STRING_CHARS, path, budget)
        elif isinstance(value, dict):
            if depth >= MAX_DEPTH:
                raise RecordError(f"{path}: nested deeper than {MAX_DEPTH} levels")
            for key, item in value.items():
                self._text(key, MAX_KEY_CHARS, path, budget)
                self._walk(item, depth + 1, f"{path}.{key[:32]}", budget)
        elif isinstance(value, list):
            if depth >= MAX_DEPTH:
                raise RecordError(f"{path}: nested deeper than {MAX_DEPTH} levels")
            for index, item in enumerate(value):
                self._walk(item, depth + 1, f"{path}[{index}]", budget)
        elif isinstance(value, float) and not math.isfinite(value):
            raise RecordError(f"{path}: NaN and infinity are not JSON numbers")
        elif (
            isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64
        ):
            raise RecordError(f"{path}: integer outside the 64-bit range")

    @staticmethod
    def _text(text: str, limit: int, path: str, budget: list[int]) -> None:
        if len(text) > limit:
            raise RecordError(f"{path}: a string longer than {limit} characters")
        budget[1] -= len(text)
        if budget[1] < 0:
            raise RecordError(f"attributes: more than {MAX_TOTAL_CHARS} characters in total")
        if not (text.isascii() or _encodes(text)):
            raise RecordError(f"{path}: an unpaired surrogate (invalid Unicode)")


def _encodes(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
