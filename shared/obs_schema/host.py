"""The seam between Worker code and whatever hosts it.

Worker code never calls `time.time()` or `asyncio.create_task()` directly for work that must
outlive a response: it asks this module. On Cloudflare, `entry.py` installs the platform's
`waitUntil`; under the local edge runtime, the runtime installs its injectable clock (so tests
advance time instead of sleeping) and its tracked `waitUntil`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

Deferred = Coroutine[Any, Any, Any]

_now: Callable[[], float] = time.time
_defer: Callable[[Deferred], None] | None = None
_background: set[asyncio.Task[Any]] = set()


def now() -> float:
    """Current wall-clock time in seconds since the epoch."""
    return _now()


def now_ms() -> int:
    """Current wall-clock time in whole milliseconds since the epoch."""
    return int(_now() * 1000)


def defer(work: Deferred) -> None:
    """Run `work` after the response is sent (Cloudflare's `ctx.waitUntil`)."""
    if _defer is not None:
        _defer(work)
        return
    # No host installed (plain unit tests): keep a strong reference so the task is not
    # garbage-collected mid-flight, as asyncio's documentation requires.
    task = asyncio.get_running_loop().create_task(work)
    _background.add(task)
    task.add_done_callback(_background.discard)


async def drain() -> None:
    """Wait for background work started without a host (plain tests) to finish."""
    while _background:
        await asyncio.gather(*list(_background), return_exceptions=True)


def install(
    *, clock: Callable[[], float] | None = None, defer: Callable[[Deferred], None] | None = None
) -> None:
    """Point the seam at a host's clock and/or background scheduler."""
    global _now, _defer
    if clock is not None:
        _now = clock
    if defer is not None:
        _defer = defer


def reset() -> None:
    """Back to the real clock and plain asyncio tasks."""
    global _now, _defer
    _now = time.time
    _defer = None
