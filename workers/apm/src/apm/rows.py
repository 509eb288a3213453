"""What the APM derives from a span, and the row a span shard stores for it.

Semantic conventions read (current names first, the older ones OpenTelemetry SDKs still send
after): `http.route`; `http.response.status_code`/`http.status_code`; `db.system.name`/
`db.system`; `db.query.text`/`db.statement`; `db.operation.name`/`db.operation`;
`server.address`/`net.peer.name`/`url.full`/`http.url`; `http.request.method`/`http.method`.
The edge location (Cloudflare colo) of a server span: `cloudflare.colo` or `cf.colo` on the span
or its resource, else the suffix of a captured `http.request.header.cf-ray`, else the resource's
`cloud.region` when its `cloud.provider` is `cloudflare`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any
from urllib.parse import urlsplit

from apm.fingerprint import fingerprint
from obs_schema.models.span import Span
from obs_schema.otlp.traces import TraceSpan

COLUMNS = (
    "trace_id", "span_id", "parent_id", "name", "kind", "service", "route", "start_ns",
    "end_ns", "status", "error", "fingerprint", "db_system", "resource_id", "attributes", "extra",
)  # fmt: skip
ROW_WIDTH = len(COLUMNS)
# The last two columns are JSON texts already: they cross RPC joined by TEXT_SEPARATOR rather
# than inside the rows' JSON, which would escape (and the shard unescape) every quote in them.
# JSON text never holds a raw control character (the encoder writes "\u0000"), so a NUL
# cannot occur inside one.
TEXT_COLUMNS = 2
TEXT_SEPARATOR = "\x00"
SERVER, CLIENT, CONSUMER = 2, 3, 5
UNNAMED = "(unnamed)"  # never "": that route name stands for "all routes of the service"
ALL_ROUTES = ""
ERROR = 2
_KIND_NUMBERS = {"unspecified": 0, "internal": 1, "server": 2, "client": 3}
_KIND_NUMBERS |= {"producer": 4, "consumer": 5}
_STATUS_NUMBERS = {"unset": 0, "ok": 1, "error": 2}
COLO_ATTRIBUTES = ("cloudflare.colo", "cf.colo")
CF_RAY = "http.request.header.cf-ray"
_RAY_COLO = re.compile(r"-([A-Za-z]{3,4})$")  # "8a1b2c3d4e5f6a7b-CDG"
_COLO = re.compile(r"^[A-Za-z0-9-]{2,16}$")  # a key of the statistics: short, no free text


@dataclass(slots=True)
class Facts:
    route: str
    error: bool
    entry: bool  # a request of its service: server/consumer span, or a root span
    fingerprint: str  # "" unless a database span
    db_system: str
    peer: str  # remote host of an outgoing HTTP call, else ""
    colo: str  # edge location that served a server span, else ""


def facts(span: TraceSpan) -> Facts:
    attributes = span.attributes
    route = attributes.get("http.route")
    return Facts(
        route=route if isinstance(route, str) and route else (span.name or UNNAMED),
        error=span.status_code == ERROR or _server_error(span),
        entry=span.kind in (SERVER, CONSUMER) or not span.parent_span_id,
        fingerprint=_statement(attributes, span.name),
        db_system=str(attributes.get("db.system.name") or attributes.get("db.system") or ""),
        peer=_peer(span) if span.kind == CLIENT else "",
        colo=colo(span) if span.kind == SERVER else "",
    )


def row(span: TraceSpan, derived: Facts, resource_id: str) -> list[Any]:
    """The plain columns of a span's row: `COLUMNS` but the last `TEXT_COLUMNS` (`texts`)."""
    return [
        span.trace_id, span.span_id, span.parent_span_id, span.name, span.kind, span.service,
        derived.route, span.start_ns, span.end_ns, span.status_code, 1 if derived.error else 0,
        derived.fingerprint, derived.db_system, resource_id,
    ]  # fmt: skip


def texts(span: TraceSpan) -> tuple[str, str]:
    """The JSON columns of a span's row: attributes and extra."""
    return _json(span.attributes), _extra(span)


def _extra(span: TraceSpan) -> str:
    if span.events or span.links:
        extra: dict[str, Any] = {"status_message": span.status_message, "scope": span.scope}
        if span.events:
            extra["events"] = span.events
        if span.links:
            extra["links"] = span.links
        return _json(extra)
    # Most spans: no events or links, an empty status message, one of a few scopes.
    return _plain_extra(span.status_message, span.scope)


@functools.lru_cache(maxsize=256)
def _plain_extra(status_message: str, scope: str) -> str:
    return _json({"status_message": status_message, "scope": scope})


# Stored as text; encoded here, so the span shard binds it as it is (SQLite extracting 16
# columns from a JSON row re-parses the row once per column). `JSONEncoder.encode` still
# builds a C encoder (and a float formatter) per call, half the cost of a span's attributes;
# the C encoder is made once here. Without a circular check (`markers` None): decoded spans
# are trees. Its output is `encode`'s; interpreters without `_json` use `encode`.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_ENCODE: Any = None
if c_make_encoder is not None:  # CPython and Pyodide build `_json`
    _ENCODE = c_make_encoder(
        None, _ENCODER.default, encode_basestring, None, ":", ",", False, False, True
    )


def _json(value: Any) -> str:
    if _ENCODE is None:
        return _ENCODER.encode(value)
    return "".join(_ENCODE(value, 0))


def resource_id(resource: dict[str, Any]) -> tuple[str, str]:
    """A content id of a resource's attributes, and their JSON."""
    text = json.dumps(resource, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16], text


def from_model(span: Span) -> TraceSpan:
    """A native-JSON span (`POST /apm/spans`) as the OTLP decoder would have produced it."""
    return TraceSpan(
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_span_id=span.parent_span_id or "",
        name=span.name,
        kind=_KIND_NUMBERS[span.kind.value],
        service=span.service,
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
        status_code=_STATUS_NUMBERS[span.status.code.value],
        status_message=span.status.message,
        attributes=dict(span.attributes),
        events=[event.model_dump() for event in span.events],
        links=[link.model_dump() for link in span.links],
        resource={"service.name": span.service},
        scope="",
    )


def colo(span: TraceSpan) -> str:
    """The colo a span names (see the module docstring), upper-case, or ""."""
    for source in (span.attributes, span.resource):
        for name in COLO_ATTRIBUTES:
            found = _colo_code(source.get(name))
            if found:
                return found
    ray = span.attributes.get(CF_RAY)
    if isinstance(ray, list) and ray:  # captured headers are string arrays (semconv)
        ray = ray[0]
    if isinstance(ray, str) and (match := _RAY_COLO.search(ray.strip())):
        return match.group(1).upper()
    if span.resource.get("cloud.provider") == "cloudflare":
        return _colo_code(span.resource.get("cloud.region"))
    return ""


def _colo_code(value: Any) -> str:
    if isinstance(value, str) and _COLO.match(value.strip()):
        return value.strip().upper()
    return ""


def _server_error(span: TraceSpan) -> bool:
    if span.kind != SERVER:
        return False
    code = span.attributes.get("http.response.status_code", span.attributes.get("http.status_code"))
    try:
        return int(code) >= 500 if code is not None else False
    except (TypeError, ValueError):
        return False


def _statement(attributes: dict[str, Any], name: str) -> str:
    system = attributes.get("db.system.name") or attributes.get("db.system")
    if not system:
        return ""
    text = attributes.get("db.query.text") or attributes.get("db.statement")
    if isinstance(text, str) and text.strip():
        return fingerprint(text)
    operation = attributes.get("db.operation.name") or attributes.get("db.operation")
    return str(operation or name).lower()


def _peer(span: TraceSpan) -> str:
    attributes = span.attributes
    if not (attributes.get("http.request.method") or attributes.get("http.method")):
        return ""
    host = attributes.get("server.address") or attributes.get("net.peer.name")
    if isinstance(host, str) and host:
        return host.lower()
    url = attributes.get("url.full") or attributes.get("http.url")
    if isinstance(url, str):
        try:
            return (urlsplit(url).hostname or "").lower()
        except ValueError:
            return ""
    return ""
