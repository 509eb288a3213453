"""JSON field assertions for HTTP checks: `{"path": "checks.db.status", "op": "eq", "value": "ok"}`.

Paths are dot-separated keys with `[n]` list indices (`data.items[0].ok`), optionally starting
with `$.`. Operators: `eq`, `ne`, `contains` (substring or list member), `exists`, `lt`, `gt`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

OPERATORS = ("eq", "ne", "contains", "exists", "lt", "gt")
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_MISSING = object()


class PathError(ValueError):
    """A path that cannot be parsed."""


def parse_path(path: str) -> list[str | int]:
    text = path[2:] if path.startswith("$.") else path
    if not text or text.startswith(".") or text.endswith("."):
        raise PathError(f"invalid path {path!r}")
    steps: list[str | int] = []
    position = 0
    while position < len(text):
        if text[position] == "." and steps:
            position += 1
        match = _STEP.match(text, position)
        if match is None:
            raise PathError(f"invalid path {path!r} at character {position}")
        steps.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    return steps


def lookup(document: Any, steps: list[str | int]) -> Any:
    """The value at `steps`, or `_MISSING`."""
    current = document
    for step in steps:
        current = _child(current, step)
        if current is _MISSING:
            break
    return current


def _child(value: Any, step: str | int) -> Any:
    if isinstance(step, int):
        return value[step] if isinstance(value, list) and step < len(value) else _MISSING
    return value[step] if isinstance(value, Mapping) and step in value else _MISSING


def check(body: str, assertion: Mapping[str, Any]) -> str | None:
    """Why `body` fails `assertion`, or None when it holds."""
    try:
        document = json.loads(body)
    except ValueError:
        return "the body is not JSON"
    path, op, expected = assertion["path"], assertion.get("op", "eq"), assertion.get("value")
    found = lookup(document, parse_path(path))
    if found is _MISSING:
        return None if op == "ne" else f"{path} is missing"
    if _holds(op, found, expected):
        return None
    return f"{path} is {_show(found)}, expected {op} {_show(expected)}"


def _holds(op: str, found: Any, expected: Any) -> bool:
    if op == "exists":
        return True
    if op == "eq":
        return bool(found == expected)
    if op == "ne":
        return bool(found != expected)
    if op == "contains":
        if isinstance(found, str):
            return isinstance(expected, str) and expected in found
        return isinstance(found, list) and expected in found
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (found, expected))
    if not numbers:
        return False
    return bool(found < expected) if op == "lt" else bool(found > expected)


def _show(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."
