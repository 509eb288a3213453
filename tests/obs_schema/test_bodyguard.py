"""Bodies are capped before and after decompression, and un-gzipped for the routes."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import httpx
import pytest

from obs_schema.bodyguard import BodyGuard


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    message = await receive()
    headers = dict(scope["headers"])
    body = message["body"] + b"|" + headers.get(b"content-encoding", b"-")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def client(**limits: int) -> httpx.AsyncClient:
    app = BodyGuard(echo, **limits)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b, wbits=-15)),
        ("GZIP", gzip.compress),
    ],
)
@pytest.mark.anyio
async def test_compressed_bodies_reach_the_route_decoded(encoding: str, encode: Any) -> None:
    async with client() as http:
        headers = {"content-encoding": encoding}
        reply = await http.post("/", content=encode(b"hello"), headers=headers)
    assert (reply.status_code, reply.content) == (200, b"hello|-")


@pytest.mark.anyio
async def test_plain_bodies_pass_untouched() -> None:
    async with client() as http:
        reply = await http.post("/", content="héllo".encode())
    assert reply.content == "héllo|-".encode()


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b"x" * 101, {}, 413, "payload_too_large"),
        (gzip.compress(b"x" * 10_000), {"content-encoding": "gzip"}, 413, "payload_too_large"),
        (b"not gzip at all", {"content-encoding": "gzip"}, 400, "bad_request"),
        (gzip.compress(b"hello")[:-8], {"content-encoding": "gzip"}, 400, "bad_request"),
        (b"abc", {"content-encoding": "br"}, 415, "unsupported_media_type"),
    ],
)
@pytest.mark.anyio
async def test_bad_bodies_get_the_json_error_model(
    body: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    async with client(max_body_bytes=100, max_decoded_bytes=1000) as http:
        reply = await http.post("/", content=body, headers=headers)
    assert reply.status_code == status
    assert reply.json()["error"]["code"] == code


@pytest.mark.anyio
async def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    received = []

    async def never(scope: dict[str, Any], receive: Any, send: Any) -> None:
        received.append(scope)

    app = BodyGuard(never, max_body_bytes=10)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as h:
        reply = await h.post("/", content=b"y" * 11)
    assert reply.status_code == 413 and received == []
