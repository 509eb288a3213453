"""Validation problems collected with their location, reported together as one 422.

Configuration documents (routes, receivers, rules, silences) are validated by plain code, not
pydantic, so the pure modules stay importable anywhere; `Problems` gathers every mistake with
its path (`["route", "routes", 0, "group_wait"]`) so an operator fixes them all in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from obs_schema.timespec import TimeSpecError, parse_duration

T = TypeVar("T")
Loc = tuple[str | int, ...]


class Invalid(ValueError):
    """A document failed validation; `details` lists every problem found."""

    def __init__(self, details: list[dict[str, Any]]) -> None:
        first = details[0] if details else {"loc": [], "message": "invalid"}
        where = ".".join(str(p) for p in first["loc"]) or "body"
        more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
        super().__init__(f"{where}: {first['message']}{more}")
        self.details = details


class Problems:
    def __init__(self) -> None:
        self.details: list[dict[str, Any]] = []
        self._loc: Loc = ()

    def add(self, message: str, *where: str | int) -> None:
        loc = [str(part) for part in (*self._loc, *where)]
        self.details.append({"loc": loc, "message": message, "type": "value_error"})

    @contextmanager
    def at(self, *where: str | int) -> Iterator[None]:
        saved = self._loc
        self._loc = (*saved, *where)
        try:
            yield
        finally:
            self._loc = saved

    def check(self, fn: Callable[[], T], *where: str | int) -> T | None:
        """Run `fn`; a ValueError becomes a problem at `where` and None is returned."""
        try:
            return fn()
        except Invalid as nested:
            for detail in nested.details:
                self.add(detail["message"], *where, *detail["loc"])
        except ValueError as error:
            self.add(str(error), *where)
        return None

    def raise_if_any(self) -> None:
        if self.details:
            raise Invalid(self.details)


def duration_ms(value: object, what: str = "duration") -> int:
    """A duration (`30s`, `5m`, `1h30m`, or seconds) as whole milliseconds."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{what} must be a duration such as 30s, 5m or 1h")
    try:
        return round(parse_duration(value) * 1000)
    except TimeSpecError as error:
        raise ValueError(str(error)) from None


def format_duration(ms: int) -> str:
    """Back to the shortest readable form: 90000 -> `1m30s`."""
    if ms == 0:
        return "0s"
    parts, rest = [], ms
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    if rest:
        parts.append(f"{rest}ms")
    return "".join(parts)


def mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be an object")
    return value


def listing(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list")
    return value


def text(value: object, what: str, *, max_chars: int = 256, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise ValueError(f"{what} must be a non-empty string")
    if len(value) > max_chars:
        raise ValueError(f"{what} is longer than {max_chars} characters")
    return value


def unknown_keys(data: Mapping[str, Any], allowed: set[str], problems: Problems) -> None:
    """Typos in configuration are errors, not silently ignored settings."""
    for key in sorted(set(data) - allowed):
        problems.add(f"unknown field; expected one of {', '.join(sorted(allowed))}", key)
