"""The local stand-in for Cloudflare's Python Workers SDK (the `workers` module).

Only the surface our Workers' `entry.py` files use: `WorkerEntrypoint`, `DurableObject`,
`Request`, `Response`, `fetch`, `wait_until` and `asgi`. The runtime registers this package as
`workers` before loading an entry file, so the same `entry.py` runs here and on Cloudflare.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Iterable, Mapping
from http import HTTPMethod
from http.client import HTTPMessage
from typing import Any

import httpx

from obs_schema import host

HeadersInit = Mapping[str, str] | Iterable[tuple[str, str]] | None
Body = str | bytes | memoryview | None


def make_headers(init: HeadersInit) -> HTTPMessage:
    """Headers as the SDK exposes them: an `HTTPMessage` (case-insensitive, repeatable)."""
    headers = HTTPMessage()
    pairs = init.items() if isinstance(init, Mapping) else (init or [])
    for name, value in pairs:
        headers[name] = value
    return headers


def _to_bytes(body: Body) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    return bytes(body)


class _ClassOrInstance:
    """Resolves to one method on the class and another on instances."""

    def __init__(self, on_class: str, on_instance: str) -> None:
        self.on_class, self.on_instance = on_class, on_instance

    def __get__(self, instance: object, owner: type) -> Any:
        return getattr(
            owner if instance is None else instance,
            self.on_class if instance is None else self.on_instance,
        )


class _Body:
    _content: bytes

    async def bytes(self) -> bytes:
        return self._content

    async def text(self) -> str:
        return self._content.decode("utf-8", errors="replace")

    async def json(self) -> Any:
        return json.loads(self._content)

    _read_json = json


class Request(_Body):
    def __init__(
        self,
        url: str,
        method: str = "GET",
        headers: HeadersInit = None,
        body: Body = None,
        cf: Mapping[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.method = HTTPMethod(method.upper())
        self.headers = make_headers(headers)
        self._content = _to_bytes(body)
        self.cf = dict(cf or {})


class Response(_Body):
    js_object: Any = None

    def __init__(
        self,
        body: Body = None,
        status: int | None = None,
        status_text: str = "",
        headers: HeadersInit = None,
    ) -> None:
        self._content = _to_bytes(body)
        self.status = 200 if status is None else status
        self.status_text = status_text
        self.headers = make_headers(headers)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @staticmethod
    def from_json(data: Any, status: int | None = None, headers: HeadersInit = None) -> Response:
        merged = dict(make_headers(headers).items())
        merged.setdefault("content-type", "application/json")
        return Response(json.dumps(data), status=status, headers=merged)

    # `Response.json(data)` builds a response; `await response.json()` reads one, as in the SDK
    # (where the second comes from the fetch result class).
    json = _ClassOrInstance("from_json", "_read_json")


class WorkerEntrypoint:
    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


class DurableObject:
    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


async def fetch(
    url: str, *, method: str = "GET", headers: HeadersInit = None, body: Body = None
) -> Response:
    """Outbound subrequest, as `workers.fetch` (keyword options only)."""
    plain = dict(make_headers(headers).items())
    if plain.get("Upgrade", plain.get("upgrade", "")).lower() == "websocket":
        status, socket = await sockets.open_websocket(url, plain)
        response = Response(status=status)
        response.js_object = types.SimpleNamespace(webSocket=socket)
        return response
    async with httpx.AsyncClient() as client:
        reply = await client.request(
            method, url, headers=dict(make_headers(headers).items()), content=_to_bytes(body)
        )
    return Response(reply.content, status=reply.status_code, headers=reply.headers.multi_items())


# Set by the running Stack: where `waitUntil` work goes (tracked, so tests can drain it).
background: Callable[[host.Deferred], None] | None = None


def wait_until(work: host.Deferred) -> None:
    if background is None:
        work.close()
        raise RuntimeError("wait_until() called outside a running local stack")
    background(work)


waitUntil = wait_until  # the SDK exports both spellings


from localedge.sdk import asgi as asgi  # noqa: E402 - `from workers import asgi` must work
from localedge.sdk import sockets  # noqa: E402
from localedge.sdk.sockets import import_from_javascript as import_from_javascript  # noqa: E402
