"""Protocol anomalies: requests no browser or well-behaved client produces.

These look at the request as a whole (method, header set, sizes, framing), not at one value,
so each is a function from the inspected request to findings. Limits follow common server
defaults (nginx's 8 KiB header line, Cloudflare's 128 KiB of headers) and OWASP CRS 920/921.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from security.detect.rules import CRITICAL, ERROR, NOTICE, WARNING

T = "protocol_anomaly"
STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MAX_HEADER_VALUE = 8 * 1024
MAX_HEADERS = 100
MAX_HEADER_BYTES = 32 * 1024
MAX_PATH = 4096
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_BAD_PERCENT = re.compile(r"%(?![0-9a-fA-F]{2}|u[0-9a-fA-F]{4})")


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    description: str
    score: int
    paranoia: int
    location: str
    excerpt: str


@dataclass(frozen=True, slots=True)
class RequestShape:
    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]  # names lower-case, in order, repeats kept


ShapeRule = Callable[[RequestShape], Iterator[Finding]]


def _method(shape: RequestShape) -> Iterator[Finding]:
    if shape.method not in STANDARD_METHODS:
        score = CRITICAL if shape.method in ("TRACE", "TRACK", "DEBUG", "CONNECT") else ERROR
        yield Finding(
            "proto-method",
            "Method outside GET/HEAD/POST/PUT/PATCH/DELETE/OPTIONS",
            score,
            1,
            "method",
            shape.method[:32],
        )


def _header_sizes(shape: RequestShape) -> Iterator[Finding]:
    if len(shape.headers) > MAX_HEADERS:
        yield Finding(
            "proto-too-many-headers",
            f"More than {MAX_HEADERS} headers",
            ERROR,
            1,
            "headers",
            str(len(shape.headers)),
        )
    total = sum(len(n) + len(v) + 4 for n, v in shape.headers)
    if total > MAX_HEADER_BYTES:
        yield Finding(
            "proto-headers-too-large", "Headers larger than 32 KiB", ERROR, 1, "headers", str(total)
        )
    for name, value in shape.headers:
        if len(value) > MAX_HEADER_VALUE:
            yield Finding(
                "proto-header-too-long",
                "One header value over 8 KiB",
                ERROR,
                1,
                f"header.{name[:64]}",
                str(len(value)),
            )


def _header_syntax(shape: RequestShape) -> Iterator[Finding]:
    for name, value in shape.headers:
        if not _TOKEN.match(name):
            yield Finding(
                "proto-header-name",
                "Header name with characters outside RFC 9110 token",
                ERROR,
                1,
                "header-name",
                name[:64],
            )
        if "\r" in value or "\n" in value or "\x00" in value:
            yield Finding(
                "proto-header-injection",
                "CR, LF or NUL inside a header value",
                CRITICAL,
                1,
                f"header.{name[:64]}",
                value[:64],
            )


def _framing(shape: RequestShape) -> Iterator[Finding]:
    names = [n for n, _ in shape.headers]
    if "transfer-encoding" in names and "content-length" in names:
        yield Finding(
            "proto-smuggling",
            "Both Transfer-Encoding and Content-Length (smuggling)",
            CRITICAL,
            1,
            "headers",
            "transfer-encoding + content-length",
        )
    if names.count("content-length") > 1 or names.count("host") > 1:
        yield Finding(
            "proto-duplicate-framing",
            "Content-Length or Host repeated",
            CRITICAL,
            1,
            "headers",
            "repeated content-length/host",
        )
    for name, value in shape.headers:
        if name == "transfer-encoding" and value.strip().lower() not in ("chunked", "identity"):
            yield Finding(
                "proto-transfer-encoding",
                "Unusual Transfer-Encoding",
                ERROR,
                1,
                "header.transfer-encoding",
                value[:64],
            )


def _missing(shape: RequestShape) -> Iterator[Finding]:
    names = {n for n, _ in shape.headers}
    if "user-agent" not in names or not dict(shape.headers).get("user-agent", "").strip():
        yield Finding("proto-missing-user-agent", "No User-Agent", NOTICE, 2, "headers", "")
    if "accept" not in names:
        yield Finding("proto-missing-accept", "No Accept header", NOTICE, 3, "headers", "")


def _url(shape: RequestShape) -> Iterator[Finding]:
    if len(shape.path) + len(shape.query) > MAX_PATH:
        yield Finding(
            "proto-url-too-long",
            "URL longer than 4 KiB",
            WARNING,
            1,
            "path",
            str(len(shape.path) + len(shape.query)),
        )
    for where, text in (("path", shape.path), ("query", shape.query)):
        if _BAD_PERCENT.search(text):
            yield Finding(
                "proto-bad-percent-encoding",
                "Invalid percent-encoding",
                WARNING,
                2,
                where,
                text[:64],
            )
        if "%00" in text or "\x00" in text:
            yield Finding("proto-null-byte", "NUL byte in the URL", ERROR, 1, where, text[:64])


SHAPE_RULES: tuple[ShapeRule, ...] = (
    _method,
    _header_sizes,
    _header_syntax,
    _framing,
    _missing,
    _url,
)


# Rules that look at the header set alone: a client sends the same set request after request.
HEADER_RULES: tuple[ShapeRule, ...] = (_header_sizes, _header_syntax, _framing, _missing)
REQUEST_RULES: tuple[ShapeRule, ...] = tuple(r for r in SHAPE_RULES if r not in HEADER_RULES)


def findings(shape: RequestShape, paranoia: int) -> list[Finding]:
    found = [f for rule in SHAPE_RULES for f in rule(shape)]
    return [f for f in found if f.paranoia <= paranoia]


def header_findings(headers: tuple[tuple[str, str], ...], paranoia: int) -> list[Finding]:
    shape = RequestShape("GET", "/", "", headers)
    return [f for rule in HEADER_RULES for f in rule(shape) if f.paranoia <= paranoia]


def request_findings(shape: RequestShape, paranoia: int) -> list[Finding]:
    """`findings` less the header rules (see `header_findings`)."""
    return [f for rule in REQUEST_RULES for f in rule(shape) if f.paranoia <= paranoia]
