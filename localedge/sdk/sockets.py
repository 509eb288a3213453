"""Local stand-ins for the JavaScript-side APIs Python Workers reach through FFI.

`cloudflare:sockets` (TCP `connect()`), a WebSocket client from a `fetch` upgrade, and the bits
of `js` / `pyodide.ffi` that entry files use to call them. On Cloudflare these are the real
runtime; here they run on asyncio so the same entry.py code path works offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import types
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


class TcpSocket:
    """`connect({"hostname", "port"})`'s result: `opened` resolves once connected."""

    def __init__(self, hostname: str, port: int) -> None:
        self._writer: asyncio.StreamWriter | None = None
        self.opened: asyncio.Task[dict[str, str]] = asyncio.ensure_future(
            self._open(hostname, port)
        )

    async def _open(self, hostname: str, port: int) -> dict[str, str]:
        _, self._writer = await asyncio.open_connection(hostname, port)
        return {"remoteAddress": f"{hostname}:{port}"}

    async def close(self) -> None:
        if not self.opened.done():
            self.opened.cancel()
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()


def _connect(address: dict[str, Any], options: Any = None) -> TcpSocket:
    return TcpSocket(str(address["hostname"]), int(address["port"]))


CLOUDFLARE_SOCKETS = types.SimpleNamespace(connect=_connect)


class WebSocket:
    """The client end of a WebSocket, shaped like the Workers `WebSocket` object."""

    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection
        self._listeners: list[Callable[[Any], Any]] = []
        self._reader: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Future[Any]] = set()

    def accept(self) -> None:
        self._reader = asyncio.ensure_future(self._read())

    def addEventListener(self, kind: str, listener: Callable[[Any], Any]) -> None:
        if kind == "message":
            self._listeners.append(listener)

    def send(self, data: str | bytes) -> None:
        # Workers' send() is synchronous; the bytes leave on the next loop turn.
        self._track(self._connection.send(data))

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self._reader is not None:
            self._reader.cancel()
        self._track(self._connection.close(code, reason))

    def _track(self, work: Any) -> None:
        future = asyncio.ensure_future(work)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for message in self._connection:
                for listener in self._listeners:
                    listener(types.SimpleNamespace(data=message))


async def open_websocket(url: str, headers: dict[str, str]) -> tuple[int, WebSocket | None]:
    """Upgrade `url` (http/https) to a WebSocket: (101, socket) or (failing status, None)."""
    ws_url = "ws" + url[4:] if url.startswith("http") else url
    extra = {k: v for k, v in headers.items() if k.lower() not in _HANDSHAKE_HEADERS}
    try:
        connection = await connect(ws_url, additional_headers=extra, open_timeout=10)
    except Exception as error:
        return getattr(getattr(error, "response", None), "status_code", 502), None
    return 101, WebSocket(connection)


_HANDSHAKE_HEADERS = {"upgrade", "connection", "sec-websocket-key", "sec-websocket-version"}


def import_from_javascript(name: str) -> Any:
    if name == "cloudflare:sockets":
        return CLOUDFLARE_SOCKETS
    raise ImportError(f"the local runtime has no JavaScript module {name!r}")


# `js` and `pyodide.ffi` as entry files use them: conversions are identities in CPython.
js = types.ModuleType("js")
js.Object = types.SimpleNamespace(fromEntries=lambda entries: dict(entries))  # type: ignore[attr-defined]
pyodide = types.ModuleType("pyodide")
pyodide_ffi = types.ModuleType("pyodide.ffi")
pyodide_ffi.to_js = lambda value, **_: value  # type: ignore[attr-defined]
pyodide_ffi.create_proxy = lambda function, **_: function  # type: ignore[attr-defined]
pyodide.ffi = pyodide_ffi  # type: ignore[attr-defined]
