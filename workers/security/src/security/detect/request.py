"""The request under inspection, and every value in it that an attacker controls.

Each value comes with its location (`query.q`, `body.user.name`, `cookie.session`,
`header.user-agent`) and a kind that selects which rules look at it. Bodies are read as the
caller declared them: JSON is walked to its leaves (keys are values too), forms are split like
query strings, anything else is one text value. Bounded: at most `MAX_VALUES` values and
`MAX_DEPTH` levels of JSON, so a hostile body costs no more than a large one.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any, NamedTuple

MAX_VALUES = 256
MAX_DEPTH = 16
# Headers whose values a browser builds itself, or that carry secrets: never rule input.
STRUCTURED_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "authorization",
        "cache-control",
        "connection",
        "content-length",
        "content-type",
        "cookie",
        "host",
        "if-modified-since",
        "if-none-match",
        "pragma",
        "proxy-authorization",
        "te",
        "upgrade-insecure-requests",
        "x-api-key",
        "x-csrf-token",
        "x-xsrf-token",
        "cf-ray",
        "cf-connecting-ip",
        "cf-ipcountry",
        "cdn-loop",
        "traceparent",
        "tracestate",
        "baggage",
        "sentry-trace",
        "x-request-id",
        "x-amzn-trace-id",
    }
)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """What the caller saw; `headers` keep order and repeats, names lower-case."""

    method: str = "GET"
    path: str = "/"
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    ip: str = ""

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n == name), None)


class Value(NamedTuple):
    """One attacker-controlled value. A tuple, so that it is its own key in the detector's
    memory of verdicts (every request has about ten of them)."""

    kind: str  # which rules apply: path, query, name, body, cookie, header.user-agent...
    location: str  # where, for evidence: "query.q"
    plus_is_space: bool  # form encoding: '+' is a space
    text: str


@dataclass
class _Collector:
    values: list[Value] = field(default_factory=list)

    def add(self, location: str, kind: str, text: str, plus: bool = False) -> bool:
        if len(self.values) >= MAX_VALUES:
            return False
        if text:
            self.values.append(Value(kind, location[:128], plus, text))
        return True


def values_of(request: HttpRequest) -> list[Value]:
    found = _Collector()
    found.add("path", "path", request.path)
    _pairs(found, "query", request.query)
    _headers(found, request.headers)
    _body(found, request)
    return found.values


def _pairs(found: _Collector, prefix: str, encoded: str) -> None:
    # Values stay percent-encoded here: the normaliser decodes every layer itself, and a
    # value decoded once already would lose the evidence that it was encoded twice.
    for part in encoded.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if not found.add(f"{prefix}-name", "name", name, True):
            return
        if not found.add(f"{prefix}.{_label(name)}", prefix, value, True):
            return


def _headers(found: _Collector, headers: tuple[tuple[str, str], ...]) -> None:
    for name, value in headers:
        found.add("header-name", "header-name", name)
        if name == "cookie":
            _cookies(found, value)
        elif name in ("user-agent", "referer"):
            found.add(f"header.{name}", f"header.{name}", value)
        elif name not in STRUCTURED_HEADERS and not name.startswith(("sec-", "cf-")):
            found.add(f"header.{name[:64]}", "header", value)


def _cookies(found: _Collector, header: str) -> None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        found.add("cookie", "cookie", header)  # unparsable: inspect it whole
        return
    if not jar:
        found.add("cookie", "cookie", header)
    for name, morsel in jar.items():
        found.add(f"cookie.{name[:64]}", "cookie", morsel.value)


def _body(found: _Collector, request: HttpRequest) -> None:
    if not request.body:
        return
    content_type = (request.header("content-type") or "").split(";", 1)[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        _pairs(found, "body", request.body)
        return
    if content_type.endswith("json") or request.body.lstrip()[:1] in ("{", "["):
        try:
            document = json.loads(request.body)
        except ValueError:
            pass  # truncated or not JSON after all: inspect it as text
        else:
            _walk(found, "body", document, 0)
            return
    found.add("body", "body", request.body)


def _walk(found: _Collector, location: str, node: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    if isinstance(node, dict):
        for key, child in node.items():
            found.add(f"{location}-name", "name", str(key))
            _walk(found, f"{location}.{_label(str(key))}", child, depth + 1)
    elif isinstance(node, list):
        for index, child in enumerate(node):
            _walk(found, f"{location}[{index}]", child, depth + 1)
    elif isinstance(node, str):
        found.add(location, "body", node)


@functools.lru_cache(maxsize=4096)  # field and parameter names repeat across requests
def _label(name: str) -> str:
    # \w is exactly str.isalnum() plus "_".
    return _NOT_LABEL.sub("_", name[:48]) or "_"


_NOT_LABEL = re.compile(r"[^\w-]")


def iter_header_pairs(raw: dict[str, str] | list[list[str]]) -> Iterator[tuple[str, str]]:
    """Headers given as an object or as [name, value] pairs, names lower-cased."""
    items = raw.items() if isinstance(raw, dict) else (tuple(pair) for pair in raw)
    for name, value in items:
        yield str(name).strip().lower(), str(value)
