"""One ASGI app in front of every Worker: route by path, as Cloudflare routes map paths.

Also serves wrangler dev's `/cdn-cgi/local/scheduled?cron=...` and the static dashboard
(the Pages project) for paths no Worker claims.
"""

from __future__ import annotations

import json
import logging
import mimetypes
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from localedge.errors import ConfigError
from localedge.sdk import Request, Response
from localedge.stack import Stack
from localedge.worker import LoadedWorker

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
log = logging.getLogger("localedge")

SCHEDULED_PATH = "/cdn-cgi/local/scheduled"


class Gateway:
    def __init__(
        self,
        stack: Stack,
        *,
        static_dir: Path | None = None,
        on_startup: Callable[[Stack], Awaitable[None]] | None = None,
        on_shutdown: Callable[[Stack], Awaitable[None]] | None = None,
        isolate: int | None = None,
    ) -> None:
        self.stack = stack
        self.static_dir = static_dir
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown
        # One of several isolate processes: answers say which (`x-localedge-isolate`).
        self.isolate = None if isolate is None else str(isolate).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if self.isolate is not None and scope["type"] == "http":
            send = _labelled(send, self.isolate)
        path = scope.get("path", "/")
        if scope["type"] == "http" and path == SCHEDULED_PATH:
            await self._scheduled(scope, send)
            return
        worker = self.stack.route(path)
        if worker is not None and worker.app is not None:
            await worker.app(dict(scope, env=worker.env), receive, send)
        elif worker is not None and scope["type"] == "http":
            await self._through_entrypoint(worker, scope, receive, send)
        elif scope["type"] == "http":
            await self._static_or_404(path, send)

    @staticmethod
    async def _through_entrypoint(
        worker: LoadedWorker, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """A Worker without a module-level ASGI app: call `Default.fetch` like workerd does."""
        request = Request(
            _url(scope),
            method=scope["method"],
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            body=await _read_all(receive),
        )
        response: Response = await worker.entrypoint().fetch(request)
        headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()
        ]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": await response.bytes()})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.stack.start()
                    if self.on_startup is not None:
                        await self.on_startup(self.stack)
                except Exception as error:
                    log.exception("local stack failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.on_shutdown is not None:
                    await self.on_shutdown(self.stack)
                await self.stack.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _scheduled(self, scope: Scope, send: Send) -> None:
        query = parse_qs(scope.get("query_string", b"").decode())
        expression = query.get("cron", [""])[0]
        worker = query.get("worker", [None])[0]
        if not expression:
            await _json(send, 400, _error("bad_request", "query parameter 'cron' is required"))
            return
        try:
            fired = await self.stack.trigger_cron(expression, worker)
        except ConfigError as error:
            await _json(send, 404, _error("not_found", str(error)))
            return
        await _json(send, 200, {"cron": expression, "workers": fired})

    async def _static_or_404(self, path: str, send: Send) -> None:
        file = self._static_file(path)
        if file is None:
            await _json(send, 404, _error("not_found", f"no route for {path}"))
            return
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        await _respond(send, 200, file.read_bytes(), kind)

    def _static_file(self, path: str) -> Path | None:
        if self.static_dir is None:
            return None
        root = self.static_dir.resolve()
        candidate = (root / path.lstrip("/")).resolve()
        if candidate.is_dir():
            candidate = candidate / "index.html"
        # Never serve anything outside the dashboard folder (../ in the path).
        if not candidate.is_relative_to(root) or not candidate.is_file():
            return None
        return candidate


def _labelled(send: Send, isolate: bytes) -> Send:
    async def labelled(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = [*message.get("headers", ()), (b"x-localedge-isolate", isolate)]
            message = {**message, "headers": headers}
        await send(message)

    return labelled


def _url(scope: Scope) -> str:
    host, port = scope.get("server") or ("localhost", 80)
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scope.get('scheme', 'http')}://{host}:{port}{scope['path']}" + (
        f"?{query}" if query else ""
    )


async def _read_all(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            return b"".join(chunks)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": []}}


async def _json(send: Send, status: int, payload: dict[str, Any]) -> None:
    await _respond(send, status, json.dumps(payload).encode(), "application/json")


async def _respond(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
