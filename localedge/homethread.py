"""Durable Objects on a thread of their own: the home stack beside the one serving HTTP.

`serve` runs two stacks in one process. The home stack, on this thread with an event loop of
its own, hosts every Durable Object, alarm and cron (and, with `--isolates N`, answers the
other processes too); the front stack, on the main thread, serves HTTP and reaches the objects
through a `ThreadLine`. An object's SQLite statements and commits release the GIL, so the
front parses and scrubs the next request on one core while a shard indexes the last one on
the other - as on Cloudflare, where a Durable Object runs apart from the Workers calling it.

Calls cross as they cross the isolates' socket (localedge.remote), minus the JSON: arguments
are copied by the RPC rules before they leave, results come back as copies, an object's
exception comes back as the same error, and each object still runs one event at a time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from localedge.errors import BindingError
from localedge.remote import ObjectHost, answer, raise_for
from localedge.rpc import to_wire
from localedge.stack import Stack, StackOptions

T = TypeVar("T")
STOP_TIMEOUT_S = 30.0
SWITCH_INTERVAL_S = 0.0001


class HomeThread:
    """The home stack, started and stopped from the front stack's event loop."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.stack: Stack | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._hosts: list[ObjectHost] = []
        self._thread = threading.Thread(target=self._main, name="localedge-home", daemon=True)

    async def start(self) -> None:
        """Start the thread and return once its stack has started (or raise why it did not)."""
        if not self._thread.is_alive() and not self._ready.done():
            self._thread.start()
        await asyncio.wrap_future(self._ready)

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on the home's loop and await its result here."""
        loop = self._loop
        if loop is None or loop.is_closed() or self._stopping is None:
            work.close()
            raise BindingError("Durable Object host went away (the home thread has stopped)")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, loop))

    async def serve_objects(self, path: Path) -> ObjectHost:
        """Answer other isolate processes' calls to the home's objects on a Unix socket."""
        assert self.stack is not None, "start() first"
        host = await self.run(self.stack.serve_objects(path))
        self._hosts.append(host)  # closed on the home's loop when it stops
        return host

    async def stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            self._stopping = None
            loop.call_soon_threadsafe(stopping.set)
            await asyncio.to_thread(self._thread.join, STOP_TIMEOUT_S)

    # --- the thread ---------------------------------------------------------------------------
    def _main(self) -> None:
        # A thread waiting for the GIL takes it after this long (CPython's default: 5 ms). An
        # object leaving a SQLite statement should not idle that long behind the front's Python:
        # log ingest with 16 clients, 96 batches of 1,000: 41k records/s at 0.2 ms, 49k at 0.1.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        loop = self._loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        stopping = asyncio.Event()
        stack = Stack(self.options)
        try:
            await stack.start()
        except BaseException as error:
            self._ready.set_exception(error)
            await stack.close()
            return
        self.stack, self._stopping = stack, stopping
        self._ready.set_result(None)
        await stopping.wait()
        for host in self._hosts:
            host.close()
        await stack.close()


class ThreadLine:
    """The front stack's line to the objects of a `HomeThread` (in place of a socket)."""

    def __init__(self, home: HomeThread) -> None:
        self.home = home

    async def open(self) -> None:
        await self.home.start()

    async def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        stack = self.home.stack
        if stack is None:
            raise BindingError("Durable Object host is not running")
        if message["op"] == "call":  # copied here, by the RPC rules, before the home sees them
            message["args"] = to_wire(message["args"])
            message["kwargs"] = to_wire(message["kwargs"])
        return raise_for(await self.home.run(answer(stack.durable, message, copied=True)))

    async def close(self) -> None:
        await self.home.stop()
