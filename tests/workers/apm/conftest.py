"""The apm Worker on the local stack: its real wrangler.toml and entry.py, beside stand-ins.

The other five Workers are replaced by stand-ins (tests/workers/apm/fixture) that answer the
cross-Worker contracts (`snapshot`, `receive_alerts`), so these tests exercise the apm Worker
and only it, whatever state the other Workers are in.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from localedge.clock import ManualClock
from localedge.gateway import Gateway
from localedge.stack import Stack, StackOptions

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = Path(__file__).parent / "fixture"
TOKENS = {"OBS_INGEST_TOKEN": "i-tok", "OBS_READ_TOKEN": "r-tok", "OBS_ADMIN_TOKEN": "a-tok"}
INGEST = {"authorization": "Bearer i-tok"}
READ = {"authorization": "Bearer r-tok"}
ADMIN = {"authorization": "Bearer a-tok"}
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z

# The Worker's package, importable as on Cloudflare (where src/ is the module root).
sys.path.insert(0, str(ROOT / "workers" / "apm" / "src"))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURE, root)
    (root / "workers" / "apm").symlink_to(ROOT / "workers" / "apm", target_is_directory=True)
    return root


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


async def start_stack(tree: Path, data: Path, clock: ManualClock) -> Stack:
    stack = Stack(StackOptions(root=tree, data_dir=data, clock=clock, secrets=TOKENS))
    await stack.start(run_timers=False)
    return stack


@pytest.fixture
async def stack(tree: Path, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Stack]:
    running = await start_stack(tree, tmp_path / "data", clock)
    yield running
    await running.close()


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=Gateway(stack))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8787") as client:
        yield client


async def received_alerts(stack: Stack) -> list[dict[str, Any]]:
    text = await stack.worker("obs-alerting").env.INBOX.get("events")
    return list(json.loads(text or "[]"))
