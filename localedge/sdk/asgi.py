"""Local stand-in for `workers.asgi`: run an ASGI app for one Request, return a Response.

Like the SDK's bridge, the whole request body is handed to the app at once and the Worker's
`env` travels in the non-standard `scope["env"]`; streamed responses are collected whole.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from localedge.sdk import Request, Response

Message = dict[str, Any]


async def fetch(app: Any, request: Request, env: Any, ctx: Any = None) -> Response:
    scope = request_scope(request, env)
    pending = [{"type": "http.request", "body": await request.bytes(), "more_body": False}]
    status = 500
    headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []

    async def receive() -> Message:
        return pending.pop() if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers.extend(
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]
            )
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return Response(b"".join(chunks), status=status, headers=headers)


def request_scope(request: Request, env: Any) -> dict[str, Any]:
    parts = urlsplit(request.url)
    host = parts.hostname or "localhost"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": str(request.method),
        "scheme": parts.scheme or "http",
        "path": unquote(parts.path or "/"),
        "raw_path": (parts.path or "/").encode(),
        "query_string": parts.query.encode(),
        "root_path": "",
        "headers": [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()
        ],
        "client": ("127.0.0.1", 0),
        "server": (host, port),
        "state": {},
        "env": env,
    }
