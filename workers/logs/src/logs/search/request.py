"""A search request: query parameters checked and turned into what the store needs.

Every problem is a `SearchError` naming the parameter (answered 400), never a 500: bad
levels, ids, times, attribute filters, limits, cursors and query syntax alike.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from logs.search.syntax import Node, QuerySyntaxError, parse
from obs_schema.severity import normalise_level
from obs_schema.timespec import TimeSpecError, parse_window

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
MAX_SERVICES = 20
MAX_ATTRS = 10
MAX_ATTR_VALUES = 10
_TRACE = re.compile(r"[0-9a-fA-F]{32}")
_ATTR_KEY = re.compile(r"[^\"\\\x00-\x1f]{1,256}")
_BOOLEANS = {"true": "1", "false": "0"}


class SearchError(ValueError):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


@dataclass
class SearchRequest:
    start_ms: int
    end_ms: int  # inclusive
    tree: Node | None = None
    min_level: int = 0
    services: list[str] = field(default_factory=list)
    trace_id: str | None = None
    attrs: list[tuple[str, list[str]]] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    before: str | None = None  # record id of the cursor: answer what comes after it
    archive: bool = False


KNOWN = frozenset(
    {"q", "level", "service", "trace_id", "since", "until", "limit", "cursor", "archive"}
)


def build(
    params: Iterable[tuple[str, str]],
    now_ms: int,
    default_span_ms: int,
    also: frozenset[str] = frozenset(),
) -> SearchRequest:
    """A request from the query string's (name, value) pairs (`also`: names another route
    reads itself)."""
    single: dict[str, str] = {}
    services: list[str] = []
    attrs: dict[str, list[str]] = {}
    for name, value in params:
        if name == "service":
            services += [s.strip() for s in value.split(",") if s.strip()]
        elif name.startswith("attr."):
            attrs.setdefault(_attr_key(name[5:]), []).append(value)
        elif name in KNOWN:
            single[name] = value
        elif name not in also:
            raise SearchError(
                name, f"unknown parameter; expected {', '.join(sorted(KNOWN))} or attr.<key>"
            )
    start, end = _window(single, now_ms, default_span_ms)
    request = SearchRequest(start_ms=start, end_ms=end)
    if single.get("q", "").strip():
        request.tree = _tree(single["q"])
    request.min_level = _level(single.get("level"))
    request.services = _services(services)
    request.trace_id = _trace(single.get("trace_id"))
    request.attrs = _attrs(attrs)
    request.limit = _limit(single.get("limit"))
    request.before = decode_cursor(single["cursor"]) if single.get("cursor") else None
    request.archive = _flag(single.get("archive", "false"), "archive")
    return request


def _window(single: dict[str, str], now_ms: int, default_span_ms: int) -> tuple[int, int]:
    try:
        start, end = parse_window(
            single.get("since"), single.get("until"), now_ms / 1000, default_span_ms / 1000
        )
    except TimeSpecError as error:
        name = "since" if "since" in str(error) and single.get("since") else "until"
        raise SearchError(name if name in single else "since", str(error)) from None
    return round(start * 1000), round(end * 1000)


def _tree(query: str) -> Node:
    try:
        return parse(query)
    except QuerySyntaxError as error:
        raise SearchError("q", str(error)) from None


def _level(value: str | None) -> int:
    if value is None or not value.strip():
        return 0
    try:
        return normalise_level(value).rank
    except ValueError as error:
        raise SearchError("level", str(error)) from None


def _services(services: list[str]) -> list[str]:
    if len(services) > MAX_SERVICES:
        raise SearchError("service", f"at most {MAX_SERVICES} services per query")
    return list(dict.fromkeys(services))


def _trace(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not _TRACE.fullmatch(value):
        raise SearchError("trace_id", "expected 32 hex digits")
    return value.lower()


def _attr_key(key: str) -> str:
    if not _ATTR_KEY.fullmatch(key):
        raise SearchError(f"attr.{key[:40]}", "an attribute key is 1-256 characters without quotes")
    return key


def _attrs(attrs: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    if len(attrs) > MAX_ATTRS:
        raise SearchError("attr", f"at most {MAX_ATTRS} attribute filters per query")
    out = []
    for key, values in attrs.items():
        if len(values) > MAX_ATTR_VALUES:
            raise SearchError(f"attr.{key}", f"at most {MAX_ATTR_VALUES} values per attribute")
        out.append(
            (key, list(dict.fromkeys(v2 for v in values for v2 in (v, _BOOLEANS.get(v, v)))))
        )
    return out


def _limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise SearchError("limit", f"expected an integer from 1 to {MAX_LIMIT}")
    return int(value)


def _flag(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no", ""):
        return False
    raise SearchError(name, "expected true or false")


def encode_cursor(record_id: str) -> str:
    return base64.urlsafe_b64encode(f"v1:{record_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise SearchError("cursor", "not a cursor returned by this API") from None
    if not text.startswith("v1:") or not re.fullmatch(r"[0-9a-f]{18}", text[3:]):
        raise SearchError("cursor", "not a cursor returned by this API")
    return text[3:]
