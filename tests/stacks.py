"""The local stack as the Worker tests use it: started without timers on a manual clock, and an
HTTP client into its gateway (no sockets: httpx calls the ASGI app directly)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from localedge.clock import ManualClock
from localedge.gateway import Gateway
from localedge.stack import Stack, StackOptions

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = "http://127.0.0.1:8787"


@asynccontextmanager
async def running_stack(
    data_dir: Path, clock: ManualClock, secrets: Mapping[str, str], root: Path = ROOT
) -> AsyncIterator[Stack]:
    stack = Stack(StackOptions(root=root, data_dir=data_dir, clock=clock, secrets=dict(secrets)))
    await stack.start(run_timers=False)
    try:
        yield stack
    finally:
        await stack.close()


def gateway_client(stack: Stack, base_url: str = BASE_URL, **options: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=Gateway(stack))
    return httpx.AsyncClient(transport=transport, base_url=base_url, **options)
