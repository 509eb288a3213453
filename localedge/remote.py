"""Durable Objects across processes: one home process hosts every object; isolates reach them.

With `serve --isolates N`, N processes serve HTTP, each a full set of Worker isolates (module
state of its own, as on Cloudflare, where a Worker runs in many isolates at once), while every
Durable Object lives in the home process alone - the one place its state and its one-event-at-
a-time guarantee can hold. An isolate's namespace bindings derive ids and stubs locally and
send each RPC call or fetch to the home over a Unix socket; the home runs it as the object's
next event and answers. Arguments and results cross as they cross any RPC boundary (the
RPC rules of `localedge.rpc`, then JSON), so nothing is shared between processes.

The same messages and `answer` serve `serve --home-thread`, where the objects live on a thread
of the same process (localedge.homethread): any `Line` can carry them.

Framing: a 4-byte big-endian length, then one JSON message. A request carries an id, and
answers come back by id in any order, so one connection carries any number of calls at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from localedge.durable import DurableObjectId, DurableObjectNamespace, NamespaceIds
from localedge.errors import BindingError, RpcError
from localedge.rpc import decode_value, encode_crossed, encode_value
from localedge.sdk import Request, Response

log = logging.getLogger("localedge.remote")

_LENGTH = struct.Struct("!I")
MAX_FRAME = 128 * 1024 * 1024  # far above any RPC payload Cloudflare accepts (32 MiB)
_ERRORS: dict[str, type[Exception]] = {"BindingError": BindingError, "RpcError": RpcError}

Namespaces = Mapping[tuple[str, str], DurableObjectNamespace]


class RemoteObjectError(Exception):
    """An exception the object raised in the home process, by type name and message."""


# --- the home process -------------------------------------------------------------------------
class ObjectHost:
    """The home's side: answers isolates' calls to the objects of `namespaces` on a socket."""

    def __init__(self, namespaces: Namespaces) -> None:
        self.namespaces = namespaces
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self._server = await asyncio.start_unix_server(
            self._connected, path=str(path), limit=MAX_FRAME
        )

    def close(self) -> None:
        """Stop listening and hang up on every isolate (each stops when its home has gone)."""
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        tasks: set[asyncio.Task[None]] = set()
        try:
            with contextlib.suppress(ConnectionError):
                while (message := await _read(reader)) is not None:
                    # Calls start in arrival order: each object runs its events in that order.
                    task = asyncio.create_task(_answer(self.namespaces, message, writer))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        finally:
            await asyncio.gather(*tasks, return_exceptions=True)
            self._writers.discard(writer)
            writer.close()


async def serve_objects(namespaces: Namespaces, path: Path) -> ObjectHost:
    """Answer isolates' calls to the objects of `namespaces` on the Unix socket `path`."""
    host = ObjectHost(namespaces)
    await host.start(path)
    return host


async def _answer(
    namespaces: Namespaces, message: dict[str, Any], writer: asyncio.StreamWriter
) -> None:
    # Decoded from the wire just now: the arguments are the object's own already.
    reply = await answer(namespaces, message, copied=True)
    # A result crossed inside the call; an error is plain text.
    frame = _frame(reply, crossed="error" not in reply)
    if not writer.is_closing():
        writer.write(frame)


async def answer(
    namespaces: Namespaces, message: dict[str, Any], *, copied: bool
) -> dict[str, Any]:
    """The reply to one call or fetch of an isolate. `copied`: the call's arguments are the
    object's own already (decoded from a wire), else they are copied by the RPC rules first."""
    reply: dict[str, Any] = {"id": message.get("id")}
    try:
        namespace = namespaces[(message["worker"], message["class"])]
        id = DurableObjectId(namespace._verified(message["object"]), message.get("name"))
        if message["op"] == "fetch":
            response = await namespace._fetch(id, _request_from(message["request"]))
            reply["response"] = await _response_wire(response)
        else:
            call = namespace._call_crossed if copied else namespace._call
            reply["ok"] = await call(id, message["method"], message["args"], message["kwargs"])
    except Exception as error:  # the object's own failure goes back to its caller
        reply["error"] = [type(error).__name__, str(error)]
    return reply


def raise_for(reply: dict[str, Any]) -> dict[str, Any]:
    """`reply`, or the exception it carries, raised on the caller's side."""
    if "error" in reply:
        kind, text = reply["error"]
        raise _ERRORS.get(kind, RemoteObjectError)(text)
    return reply


class Line(Protocol):
    """How an isolate's namespace bindings reach the home's objects."""

    async def open(self) -> None: ...

    async def ask(self, message: dict[str, Any]) -> dict[str, Any]: ...

    async def close(self) -> None: ...


# --- an isolate process -----------------------------------------------------------------------
class ObjectLine:
    """An isolate's connection to the home process, shared by all its namespace bindings."""

    def __init__(self, path: Path, on_lost: Callable[[], None] | None = None) -> None:
        self.path = path
        self._on_lost = on_lost
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._connecting = asyncio.Lock()
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next = 0

    async def open(self) -> None:
        """Connect now, so that losing the home is noticed even by an isolate that never
        calls an object."""
        await self._connected()

    async def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        writer = self._writer
        if writer is None or writer.is_closing():
            writer = await self._connected()
        self._next += 1
        message["id"] = self._next
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next] = answer
        writer.write(_frame(message))
        try:
            reply = await answer
        finally:
            self._pending.pop(message["id"], None)
        return raise_for(reply)

    async def close(self) -> None:
        if self._reader_task is not None:
            self._reader_task.cancel()
            await asyncio.gather(self._reader_task, return_exceptions=True)
        if self._writer is not None:
            self._writer.close()

    async def _connected(self) -> asyncio.StreamWriter:
        async with self._connecting:
            if self._writer is None or self._writer.is_closing():
                reader, self._writer = await asyncio.open_unix_connection(
                    str(self.path), limit=MAX_FRAME
                )
                self._reader_task = asyncio.create_task(self._replies(reader))
            return self._writer

    async def _replies(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError):
            while (reply := await _read(reader)) is not None:
                waiting = self._pending.get(reply.get("id", -1))
                if waiting is not None and not waiting.done():
                    waiting.set_result(reply)
        log.warning("the home process (Durable Objects) went away: %s", self.path)
        lost = BindingError("Durable Object host went away (the home process has stopped)")
        for waiting in self._pending.values():
            if not waiting.done():
                waiting.set_exception(lost)
        if self._writer is not None:
            self._writer.close()
        if self._on_lost is not None:
            self._on_lost()


class RemoteNamespace(NamespaceIds):
    """A namespace binding whose objects live in the home process."""

    def __init__(self, worker: str, class_name: str, line: Line) -> None:
        super().__init__(worker, class_name)
        self._line = line

    async def _call(self, id: DurableObjectId, method: str, args: Any, kwargs: Any) -> Any:
        call = {"op": "call", "method": method, "args": list(args), "kwargs": dict(kwargs)}
        reply = await self._line.ask({**self._address(id), **call})
        return reply["ok"]

    async def _fetch(self, id: DurableObjectId, request: Request) -> Response:
        wire = {
            "url": request.url,
            "method": str(request.method),
            "headers": [list(item) for item in request.headers.items()],
            "body": await request.bytes(),
            "cf": request.cf,
        }
        reply = await self._line.ask({**self._address(id), "op": "fetch", "request": wire})
        answer = reply["response"]
        return Response(answer["body"], answer["status"], answer["status_text"], answer["headers"])

    def _address(self, id: DurableObjectId) -> dict[str, Any]:
        where = {"worker": self.worker, "class": self.class_name}
        return {**where, "object": id.toString(), "name": id.name}


# --- the wire ---------------------------------------------------------------------------------
def _frame(message: dict[str, Any], crossed: bool = False) -> bytes:
    data = (encode_crossed(message) if crossed else encode_value(message)).encode()
    return _LENGTH.pack(len(data)) + data


async def _read(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    try:
        head = await reader.readexactly(_LENGTH.size)
        (size,) = _LENGTH.unpack(head)
        if size > MAX_FRAME:
            raise ConnectionError(f"frame of {size} bytes")
        message: dict[str, Any] = decode_value((await reader.readexactly(size)).decode())
        return message
    except asyncio.IncompleteReadError:
        return None


def _request_from(wire: dict[str, Any]) -> Request:
    return Request(wire["url"], wire["method"], wire["headers"], wire["body"], wire["cf"])


async def _response_wire(response: Response) -> dict[str, Any]:
    return {
        "status": response.status,
        "status_text": response.status_text,
        "headers": [list(item) for item in response.headers.items()],
        "body": await response.bytes(),
    }
