"""Durable Objects reached from another isolate process: the home's socket, a real Unix socket.

The objects run in this process's namespace (the home); the stubs belong to RemoteNamespace
bindings over `localedge.remote`, as an isolate process's do. Ids, RPC rules, fetch, errors and
the one-event-at-a-time order must be what a caller in the home itself gets."""

from __future__ import annotations

import asyncio
import pathlib
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import pytest

from localedge.durable import FOREIGN_ID, DurableObjectNamespace
from localedge.errors import BindingError, RpcError
from localedge.remote import ObjectLine, RemoteNamespace, RemoteObjectError, serve_objects
from tests.localedge.test_durable import Counter, Factory, clock, make, scheduler

__all__ = ["clock", "make", "scheduler"]  # the namespace fixtures of test_durable, reused


@pytest.fixture
async def home(make: Factory) -> AsyncIterator[tuple[DurableObjectNamespace, pathlib.Path]]:
    namespace = make(Counter)
    # A short path: Unix socket paths are limited to ~100 bytes, pytest's tmp_path is longer.
    with tempfile.TemporaryDirectory(prefix="le-") as directory:
        path = pathlib.Path(directory) / "home.sock"
        objects = await serve_objects({("monitoring", "Counter"): namespace}, path)
        yield namespace, path
        objects.close()


@pytest.fixture
async def line(home: tuple[DurableObjectNamespace, pathlib.Path]) -> AsyncIterator[ObjectLine]:
    opened = ObjectLine(home[1])
    yield opened
    await opened.close()


def remote(line: ObjectLine) -> RemoteNamespace:
    return RemoteNamespace("monitoring", "Counter", line)


@pytest.mark.anyio
async def test_calls_from_an_isolate_reach_the_objects_the_home_holds(
    home: tuple[DurableObjectNamespace, pathlib.Path], line: ObjectLine
) -> None:
    local, far = home[0], remote(line)
    assert far.idFromName("tenant") == local.idFromName("tenant")  # same ids everywhere
    stub: Any = far.getByName("tenant")
    assert await stub.increment(2) == 2
    assert await local.getByName("tenant").increment() == 3  # type: ignore[attr-defined]
    item = {"name": "x", "when": b"\x00\xff"}
    assert await stub.remember(item) == {"name": "x", "when": b"\x00\xff", "seen": True}
    assert item == {"name": "x", "when": b"\x00\xff"}  # the caller's dict is its own


@pytest.mark.anyio
async def test_fetch_crosses_with_method_url_body_and_status(line: ObjectLine) -> None:
    stub: Any = remote(line).getByName("f")
    response = await stub.fetch("https://do/path?q=1", method="POST", body="hello")
    assert (response.status, await response.text()) == (201, "POST https://do/path?q=1 hello")


@pytest.mark.anyio
async def test_failures_come_back_to_the_caller_by_kind(
    home: tuple[DurableObjectNamespace, pathlib.Path], line: ObjectLine
) -> None:
    far = remote(line)
    stub: Any = far.getByName("errors")
    with pytest.raises(RemoteObjectError, match="after the write"):
        await stub.fail_after_write()
    with pytest.raises(BindingError, match="reset requested"):
        await stub.abort_after_write()
    with pytest.raises(RpcError, match='does not implement the method "nope"'):
        await stub.nope()
    with pytest.raises(RpcError, match="cannot be sent over RPC"):
        await stub.increment((1, 2))  # refused before it leaves, as on Cloudflare
    other = DurableObjectNamespace(
        worker="monitoring", class_name="Other", cls=Counter, root=home[0]._root,
        clock=home[0]._clock, scheduler=home[0]._scheduler,
    )  # fmt: skip
    with pytest.raises(BindingError, match=FOREIGN_ID):
        far.get(other.idFromName("x"))
    await other.close()
    assert await home[0].getByName("errors").increment() == 1  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_two_isolates_calling_one_object_meet_one_event_at_a_time(
    home: tuple[DurableObjectNamespace, pathlib.Path], line: ObjectLine
) -> None:
    second_line = ObjectLine(home[1])
    first: Any = remote(line).getByName("busy")
    second: Any = remote(second_line).getByName("busy")
    env = home[0].env
    started = asyncio.ensure_future(first.work("first"))
    await env.started.wait()
    waiting = asyncio.ensure_future(second.work("second"))
    for _ in range(20):
        await asyncio.sleep(0)
    assert env.log[-1] == "first starts"  # the second call waits for the first event to end
    env.gate.set()
    assert await asyncio.gather(started, waiting) == ["first", "second"]
    assert env.log[-4:] == ["first starts", "first ends", "second starts", "second ends"]
    await second_line.close()


@pytest.mark.anyio
async def test_a_home_that_goes_away_fails_the_calls_waiting_on_it(make: Factory) -> None:
    namespace = make(Counter)
    lost: list[bool] = []
    with tempfile.TemporaryDirectory(prefix="le-") as directory:
        path = pathlib.Path(directory) / "home.sock"
        objects = await serve_objects({("monitoring", "Counter"): namespace}, path)
        line = ObjectLine(path, on_lost=lambda: lost.append(True))
        stub: Any = remote(line).getByName("busy")
        pending = asyncio.ensure_future(stub.work("first"))
        await namespace.env.started.wait()
        objects.close()
        with pytest.raises(BindingError, match="home process has stopped"):
            await pending
        assert lost == [True]
        namespace.env.gate.set()
        await line.close()
