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
    def check(self, value: dict[str, Any]) -> None:
        budget = [MAX_VALUES, MAX_TOTAL_CHARS]
        self._walk(value, 0, "attributes", budget)

    def _walk(self, value: Any, depth: int, path: str, budget: list[int]) -> None:
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
        if not text.isascii():
            try:
                text.encode()
            except UnicodeEncodeError:
                raise RecordError(f"{path}: an unpaired surrogate (invalid Unicode)") from None
