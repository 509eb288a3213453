"""Durable Objects on the home thread, reached from the front stack's loop through a ThreadLine.

What a caller on the front sees must be what it sees with the objects in its own loop (ids,
RPC copies, errors by kind, fetch) while the objects' events, crons and their `waitUntil` work
run on the home thread."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from localedge import sdk
from localedge.clock import ManualClock
from localedge.errors import BindingError, ConfigError, RpcError
from localedge.homethread import HomeThread, ThreadLine
from localedge.remote import RemoteObjectError
from localedge.stack import Stack, StackOptions
from tests.localedge.test_stack import FIXTURE, START


@pytest.fixture
def options(tmp_path: Path) -> StackOptions:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURE, root)
    return StackOptions(root=root, data_dir=tmp_path / "data", clock=ManualClock(START))


@pytest.fixture
async def home(options: StackOptions) -> AsyncIterator[HomeThread]:
    started = HomeThread(options)
    yield started
    await started.stop()


@pytest.fixture
async def front(options: StackOptions, home: HomeThread) -> AsyncIterator[Stack]:
    stack = Stack(replace(options, home=ThreadLine(home)))
    await stack.start(run_timers=False)  # starts the home through the line
    yield stack
    await stack.close()


@pytest.mark.anyio
async def test_objects_run_on_the_home_thread_for_every_caller(
    front: Stack, home: HomeThread
) -> None:
    counter: Any = front.worker("alpha").env.COUNTER.getByName("web")
    assert await counter.where() == "localedge-home"
    assert await counter.increment(2) == 2
    assert await front.worker("alpha").env.BETA.total() == 2  # a front Worker's own call
    assert home.stack is not None
    assert front.durable == {} and set(home.stack.durable) == {("alpha", "Counter")}
    reply = await counter.fetch("https://do/x", method="PUT")
    assert await reply.json() == {"id": counter.id.toString(), "method": "PUT"}


@pytest.mark.anyio
async def test_failures_come_back_by_kind(front: Stack) -> None:
    counter: Any = front.worker("alpha").env.COUNTER.getByName("web")
    with pytest.raises(RemoteObjectError, match="counter says no"):
        await counter.fail()
    with pytest.raises(RpcError, match='does not implement the method "nope"'):
        await counter.nope()
    with pytest.raises(RpcError, match="cannot be sent over RPC"):
        await counter.increment((1, 2))  # refused on the front, before it crosses
    assert await counter.increment(1) == 1  # the object is still there


@pytest.mark.anyio
async def test_crons_and_their_wait_until_work_run_in_the_home(
    front: Stack, home: HomeThread
) -> None:
    stack = home.stack
    assert stack is not None

    async def cron_and_drain() -> list[str]:
        fired = await stack.trigger_cron("*/5 * * * *")
        await stack.drain()  # the cron's waitUntil work was tracked by the home stack
        return fired

    assert await home.run(cron_and_drain()) == ["alpha"]
    bucket = front.worker("alpha").env.BUCKET
    listed = await bucket.list(prefix="cron/")
    assert len(listed["objects"]) == 1


@pytest.mark.anyio
async def test_wait_until_on_the_front_is_drained_by_the_front(front: Stack) -> None:
    # Both stacks set the process-wide waitUntil hook; the home started last. Work deferred
    # on the front's loop must still be the front's to drain.
    done: list[bool] = []

    async def work() -> None:
        await asyncio.sleep(0)
        done.append(True)

    sdk.wait_until(work())
    await front.drain()
    assert done == [True]


@pytest.mark.anyio
async def test_calls_after_the_home_stopped_fail_as_binding_errors(
    front: Stack, home: HomeThread
) -> None:
    counter: Any = front.worker("alpha").env.COUNTER.getByName("web")
    await home.stop()
    with pytest.raises(BindingError, match="home thread has stopped"):
        await counter.increment(1)


@pytest.mark.anyio
async def test_a_home_that_cannot_start_says_why(options: StackOptions) -> None:
    wrangler = options.root / "workers" / "beta" / "wrangler.toml"
    wrangler.write_text(
        wrangler.read_text().replace('script_name = "alpha"\n', 'script_name = "x"\n', 1)
    )
    home = HomeThread(options)
    with pytest.raises(ConfigError, match=r"unknown x\.Counter"):
        await home.start()
    await home.stop()
