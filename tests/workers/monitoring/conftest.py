"""Fixtures for the monitoring Worker: a stack on a manual clock, a local target server, and
the alerts the alerting Worker receives."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from localedge.clock import ManualClock
from localedge.stack import Stack
from tests.stacks import gateway_client, running_stack
from tests.workers.monitoring.support import START, TOKENS, Target, serve_target


@pytest.fixture
def target() -> Iterator[Target]:
    with serve_target() as state:
        yield state


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path / "data", ManualClock(START), TOKENS) as running:
        yield running


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(stack) as client:
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
