"""The local stack with a manual clock, and an HTTP client on it, for the security tests."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from localedge.clock import ManualClock
from localedge.stack import Stack
from tests.stacks import gateway_client, running_stack

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "workers" / "security" / "src"))  # pure modules, tested directly
TOKENS = {"OBS_INGEST_TOKEN": "i-tok", "OBS_READ_TOKEN": "r-tok", "OBS_ADMIN_TOKEN": "a-tok"}
INGEST = {"authorization": "Bearer i-tok"}
READ = {"authorization": "Bearer r-tok"}
ADMIN = {"authorization": "Bearer a-tok"}
START = 1_795_773_600.0  # 2026-11-27T10:00:00Z


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path / "data", ManualClock(START), TOKENS) as running:
        yield running


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(stack) as client:
        yield client


async def metric(http: httpx.AsyncClient, line_prefix: str) -> float:
    """The value of the exposition line starting with `line_prefix` (0 when absent).

    Worker modules stay warm across stacks (as in an isolate), so counters carry over between
    tests: tests compare values before and after what they do.
    """
    text = (await http.get("/security/metrics")).text
    for line in text.splitlines():
        if line.startswith(line_prefix + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
