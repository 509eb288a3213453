"""uvicorn's httptools protocol, with a response's writes leaving the process together.

An ASGI app answers in two messages (start, then body), and uvicorn writes each to the socket
as it comes: two send() calls and two TCP segments for every small JSON answer, each waking
the client. The local stack answers tens of thousands of small requests a second (security
checks, beacons), and that second system call was the largest single cost left in serving one.
Here the writes made in one turn of the event loop are held and leave in one vectored write at
the end of the turn: the same bytes, in the same order, one turn later. A response streamed
over many turns (server-sent events) still leaves piece by piece, each at the end of its turn.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class CorkedTransport:
    """A transport whose writes within one loop turn are sent with a single writelines."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        if not self._held:
            return
        held, self._held = self._held, []
        if self._transport.is_closing():  # the peer left: its answer has nowhere to go
            return
        if len(held) == 1:
            self._transport.write(held[0])
        else:
            self._transport.writelines(held)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()  # what was written before close is sent, as asyncio transports promise
        self._transport.close()

    def abort(self) -> None:
        self._held = []
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._held))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a corked transport (`uvicorn.Config(http=...)`)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        corked: Any = CorkedTransport(transport, self.loop)
        super().connection_made(corked)
