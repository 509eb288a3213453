"""Fixtures for the alerting Worker: the whole stack on a manual clock, HTTP into it, and real
local HTTP receivers standing in for Slack, PagerDuty, the email and SMS APIs and webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from localedge.clock import ManualClock
from localedge.stack import Stack, StackOptions
from tests.receiver import Receiver, receiver
from tests.stacks import gateway_client
from tests.workers.alerting.support import ROOT, START, TOKENS


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as state:
        yield state


@pytest.fixture
def pager() -> Iterator[Receiver]:
    with receiver() as state:
        yield state


@pytest.fixture
def chat() -> Iterator[Receiver]:
    with receiver() as state:
        yield state


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def quiet_others(stack: Stack) -> None:
    """Only the alerting Worker's cron runs: scripted hours then cost milliseconds, and what
    the other Workers' own schedules do is their tests' business (their RPCs still answer)."""
    for worker in stack.workers.values():
        if worker.name != "obs-alerting":
            for expression in worker.config.crons:
                stack.scheduler.cancel(f"cron:{worker.name}:{expression}")


async def started(data_dir: Path, clock: ManualClock) -> Stack:
    running = Stack(StackOptions(root=ROOT, data_dir=data_dir, clock=clock, secrets=TOKENS))
    await running.start(run_timers=False)
    quiet_others(running)
    return running


@pytest.fixture
async def stack(data_dir: Path, clock: ManualClock) -> AsyncIterator[Stack]:
    running = await started(data_dir, clock)
    yield running
    await running.close()


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(stack) as client:
        yield client


@pytest.fixture
def numbers(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What the APM and logs Workers' `snapshot()` RPCs answer, as a test scripts it (their own
    tests cover how they compute it); the security Worker's fails, as a broken Worker would."""
    scripted: dict[str, Any] = {"apm": {}, "logs": {}}

    def answering(worker: str, key: str | None) -> None:
        module = stack.worker(worker).module

        class Scripted(module.Default):  # type: ignore[misc, name-defined]
            async def snapshot(self) -> dict[str, Any]:
                if key is None:
                    raise RuntimeError("snapshot store unavailable")
                return dict(scripted[key])

        monkeypatch.setattr(module, "Default", Scripted)

    answering("obs-apm", "apm")
    answering("obs-logs", "logs")
    answering("obs-security", None)
    return scripted
