"""`POST /security/check` answered ahead of FastAPI's routing: Pitchey asks on every request.

FastAPI's per-request machinery (route matching over every route, dependency solving, body
parsing, validation into a model and back to a dict, the response class) costs about as much
as a benign check itself. This ASGI middleware sits innermost among the app's middleware -
inside the shared Instrumentation (metrics, binding telemetry, the 500 model) and BodyGuard
(size limits, decompression) - and answers a well-formed check itself: a JSON body that
`CheckRequest` accepts, with a token granting `ingest`. Anything else (no or a wrong token, a
body that is not JSON or fails validation) goes on to FastAPI with its body replayed, which
answers exactly as it always has: one place decides every error.

The answer is the same bytes `JSONResponse` sends, and the request is counted under the same
route template.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from obs_schema import auth, host
from obs_schema.errors import ApiError
from security import checker
from security.schemas import CheckRequest
from security.telemetry import Telemetry

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PATH = "/security/check"


class CheckFastPath:
    def __init__(self, app: ASGIApp, *, telemetry: Telemetry, route: Any) -> None:
        self.app = app
        self.telemetry = telemetry
        self.route = route  # the FastAPI route, whose template labels the request's metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, replay = await _read(receive)
        request = await _accepted(scope, body)
        if request is None:
            await self.app(scope, replay, send)
            return
        scope["route"] = self.route  # as the router would set it
        answer = await checker.check(scope["env"], request, self.telemetry, host.now_ms())
        await _send_json(send, answer)


async def _read(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body (BodyGuard hands it over in one message), and a receive that replays it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


async def _accepted(scope: Scope, body: bytes) -> dict[str, Any] | None:
    """The validated check, or None when FastAPI should answer (and explain) instead."""
    headers = _headers(scope)
    if b"json" not in headers.get(b"content-type", b""):
        return None
    authorization = headers.get(b"authorization")
    try:
        principal = await auth.authenticate(
            scope.get("env"), authorization.decode("latin-1") if authorization else None
        )
        if not principal.grants("ingest"):
            return None
        # Every field is a plain value or container: the model's own field dict is what
        # model_dump gives (and the model is dropped here, so nobody shares it).
        fields: dict[str, Any] = CheckRequest.model_validate_json(body).__dict__
        return fields
    except (ApiError, ValidationError, ValueError):
        return None


def _headers(scope: Scope) -> dict[bytes, bytes]:
    found: dict[bytes, bytes] = {}
    for name, value in scope.get("headers") or ():
        found.setdefault(name.lower(), value)
    return found


# Starlette's JSONResponse rendering, made once (json.dumps with options builds an encoder
# per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))


async def _send_json(send: Send, content: dict[str, Any]) -> None:
    # Starlette's JSONResponse bytes and headers.
    body = _ENCODER.encode(content).encode("utf-8")
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
