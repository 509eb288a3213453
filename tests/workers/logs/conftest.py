"""Fixtures of the logs Worker's tests: the whole stack on a manual clock, or one shard."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from localedge import sdk
from localedge.clock import ManualClock
from localedge.stack import Stack, StackOptions
from localedge.storage import DurableObjectStorage
from obs_schema import host
from tests.stacks import gateway_client
from tests.workers.logs.helpers import ROOT, T0, TOKENS

# The Worker's package, importable as on Cloudflare (where src/ is the module root).
sys.path.insert(0, str(ROOT / "workers" / "logs" / "src"))


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    # Module scope, so a module may share one stack between read-only tests (see `shared_http`).
    return "asyncio"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def make_stack(data_dir: Path, clock: ManualClock) -> Stack:
    return Stack(StackOptions(root=ROOT, data_dir=data_dir, clock=clock, secrets=TOKENS))


@pytest.fixture
async def stack(data_dir: Path, clock: ManualClock) -> AsyncIterator[Stack]:
    running = make_stack(data_dir, clock)
    await running.start(run_timers=False)
    yield running
    await running.close()


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(stack) as client:
        yield client


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[DurableObjectStorage]:
    opened = DurableObjectStorage(tmp_path / "shard.sqlite")
    yield opened
    opened.close()


@pytest.fixture(scope="module")
async def shared_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """One stack for a module's tests that only read, or whose writes no other test reads."""
    running = make_stack(tmp_path_factory.mktemp("shared") / "data", ManualClock(T0))
    await running.start(run_timers=False)
    yield running
    await running.close()


@pytest.fixture(scope="module")
async def shared_http(shared_stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async def activate(_: httpx.Request) -> None:
        # The clock and waitUntil hooks are process-wide; tests with their own stack in the
        # same module move them. Point them back at this stack before each request.
        host.install(clock=shared_stack.clock.now)
        sdk.background = shared_stack.defer

    async with gateway_client(shared_stack, event_hooks={"request": [activate]}) as client:
        yield client
