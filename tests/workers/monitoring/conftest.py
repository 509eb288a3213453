"""Fixtures for the monitoring Worker: a stack on a manual clock, a local target server, and
the alerts the alerting Worker receives."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from localedge.clock import ManualClock
from localedge.gateway import Gateway
from localedge.stack import Stack, StackOptions
from tests.workers.monitoring.support import ROOT, START, TOKENS, Target, serve_target


@pytest.fixture
def target() -> Iterator[Target]:
    with serve_target() as state:
        yield state


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    running = Stack(
        StackOptions(
            root=ROOT, data_dir=tmp_path / "data", clock=ManualClock(START), secrets=TOKENS
        )
    )
    await running.start(run_timers=False)
    yield running
    await running.close()


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=Gateway(stack))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8787") as client:
        yield client


@pytest.fixture
def alerts(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What arrives at the alerting Worker's `receive_alerts` RPC (its own tests cover what it
    does next); recorded at the far side of the real service binding."""
    received: list[dict[str, Any]] = []
    module = stack.worker("obs-alerting").module

    class Recording(module.Default):  # type: ignore[misc, name-defined]
        async def receive_alerts(self, events: list[dict[str, Any]]) -> dict[str, Any]:
            received.extend(events)
            return {"accepted": len(events), "rejected": []}

    monkeypatch.setattr(module, "Default", Recording)
    return received
