"""Fixtures of the infra Worker's tests: a shard on a real DO SQLite file, the whole stack."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from localedge.clock import ManualClock
from localedge.stack import Stack, StackOptions
from localedge.storage import DurableObjectStorage
from tests.stacks import gateway_client
from tests.workers.infra.helpers import ROOT, TOKENS, fresh_telemetry

# The Worker's package, importable as on Cloudflare (where src/ is the module root).
sys.path.insert(0, str(ROOT / "workers" / "infra" / "src"))


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[DurableObjectStorage]:
    opened = DurableObjectStorage(tmp_path / "shard.sqlite")
    yield opened
    opened.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def stack(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Stack]:
    running = Stack(
        StackOptions(root=ROOT, data_dir=tmp_path / "data", clock=clock, secrets=TOKENS)
    )
    await running.start(run_timers=False)
    fresh_telemetry(running)
    yield running
    await running.close()


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(stack) as client:
        yield client
