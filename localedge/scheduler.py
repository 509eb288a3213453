"""Timers for alarms and cron, driven by the runtime's clock.

With the real clock, `run_forever` sleeps until the next timer is due. With a `ManualClock`,
tests call `advance(seconds)`: the scheduler walks time forward timer by timer, setting the clock
to each due time before firing it, so every alarm and cron runs at its exact instant.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from localedge.clock import Clock, ManualClock

Callback = Callable[[], Awaitable[None]]
log = logging.getLogger("localedge.scheduler")


class Scheduler:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, str]] = []
        self._timers: dict[str, tuple[float, int, Callback]] = {}
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[Any]] = set()

    def at(self, due: float, key: str, callback: Callback) -> None:
        """Fire `callback` at `due` (epoch seconds); replaces any timer with the same key."""
        seq = next(self._seq)
        self._timers[key] = (due, seq, callback)
        heapq.heappush(self._heap, (due, seq, key))
        self._wake.set()

    def cancel(self, key: str) -> None:
        self._timers.pop(key, None)

    def due(self, key: str) -> float | None:
        timer = self._timers.get(key)
        return timer[0] if timer else None

    def next_due(self) -> float | None:
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    async def advance(self, seconds: float) -> None:
        """Move a manual clock forward, firing every timer due on the way, in order."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a ManualClock")
        target = self.clock.now() + seconds
        while (due := self.next_due()) is not None and due <= target:
            self.clock.set(max(due, self.clock.now()))
            await self._fire(self._pop())
        self.clock.set(target)

    async def run_due(self) -> None:
        """Fire every timer due now, one after the other."""
        while (due := self.next_due()) is not None and due <= self.clock.now():
            await self._fire(self._pop())

    async def run_forever(self) -> None:
        """Real-time loop: each due timer runs as its own task, so a slow one delays no other."""
        while True:
            due = self.next_due()
            delay = None if due is None else max(0.0, due - self.clock.now())
            self._wake.clear()
            if delay is None or delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)
                continue
            task = asyncio.create_task(self._fire(self._pop()))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    def _pop(self) -> Callback:
        _, _, key = heapq.heappop(self._heap)
        return self._timers.pop(key)[2]

    def _drop_stale(self) -> None:
        # Lazy deletion: heap entries whose key was cancelled or re-armed since are skipped.
        while self._heap:
            _, seq, key = self._heap[0]
            timer = self._timers.get(key)
            if timer is not None and timer[1] == seq:
                return
            heapq.heappop(self._heap)

    @staticmethod
    async def _fire(callback: Callback) -> None:
        try:
            await callback()
        except Exception:
            # A failing alarm or cron must not stop the others; the owner logs and retries.
            log.exception("timer callback failed")
