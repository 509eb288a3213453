"""ASGI middleware that reads the request body once, enforces size limits and un-gzips it.

On Cloudflare the ASGI bridge hands the app the whole body anyway, so reading it up front costs
nothing extra; it lets us answer 413 before any route parses a byte, cap the size *after*
decompression (OTLP requires it; it also stops gzip bombs) and hand routes a plain body.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from obs_schema.errors import ApiError, PayloadTooLarge, UnsupportedMediaType

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_DECODED_BYTES = 64 * 1024 * 1024


class BodyGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_decoded_bytes = max_decoded_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            _check_declared_length(scope, self.max_body_bytes)
            body = await _read_body(receive, self.max_body_bytes)
            body, scope = _decode(scope, body, self.max_decoded_bytes)
        except ApiError as error:
            await _reply(send, error)
            return
        await self.app(scope, _replay(body, receive), send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _check_declared_length(scope: Scope, limit: int) -> None:
    declared = _header(scope, b"content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body of {declared} bytes exceeds the limit of {limit}")


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _decode(scope: Scope, body: bytes, limit: int) -> tuple[bytes, Scope]:
    encoding = (_header(scope, b"content-encoding") or "identity").strip().lower()
    if encoding == "identity" or not body:
        return body, scope
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise UnsupportedMediaType(
            f"unsupported Content-Encoding {encoding!r}; use gzip, deflate or none"
        )
    # wbits 47 auto-detects gzip or zlib headers; raw deflate is tried as a fallback.
    decoded = _inflate(body, 47, limit) if encoding != "deflate" else _inflate_any(body, limit)
    headers = [
        (k, v)
        for k, v in scope["headers"]
        if k.lower() not in (b"content-encoding", b"content-length")
    ]
    headers.append((b"content-length", str(len(decoded)).encode()))
    # The same scope, not a copy: the route the router records in it must reach the
    # middleware outside (request metrics are labelled by route).
    scope["headers"] = headers
    return decoded, scope


def _inflate_any(body: bytes, limit: int) -> bytes:
    try:
        return _inflate(body, 47, limit)
    except ApiError as error:
        if isinstance(error, PayloadTooLarge):
            raise
        return _inflate(body, -15, limit)


def _inflate(body: bytes, wbits: int, limit: int) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    try:
        decoded = decompressor.decompress(body, limit + 1)
    except zlib.error as error:
        raise ApiError(f"request body is not valid compressed data: {error}") from None
    if len(decoded) > limit or decompressor.unconsumed_tail:
        raise PayloadTooLarge(f"decompressed request body exceeds the limit of {limit} bytes")
    if not decompressor.eof:
        raise ApiError("compressed request body is truncated")
    return decoded


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # later calls wait for the client's disconnect, as usual
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _reply(send: Send, error: ApiError) -> None:
    body = json.dumps(error.payload()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
