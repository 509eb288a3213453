"""Timers fire in due order at their exact instant when a manual clock is advanced."""

from __future__ import annotations

import asyncio

import pytest

from localedge.clock import ManualClock, SystemClock
from localedge.scheduler import Scheduler


def recorder(clock: ManualClock, log: list[tuple[str, float]], name: str):  # type: ignore[no-untyped-def]
    async def fire() -> None:
        log.append((name, clock.now()))

    return fire


@pytest.mark.anyio
async def test_timers_fire_in_due_order_at_their_due_time() -> None:
    clock = ManualClock(1000.0)
    scheduler = Scheduler(clock)
    log: list[tuple[str, float]] = []
    scheduler.at(1030.0, "late", recorder(clock, log, "late"))
    scheduler.at(1010.0, "early", recorder(clock, log, "early"))
    await scheduler.advance(20)
    assert log == [("early", 1010.0)]
    assert clock.now() == 1020.0
    await scheduler.advance(100)
    assert log == [("early", 1010.0), ("late", 1030.0)]


@pytest.mark.anyio
async def test_rearming_a_key_replaces_the_old_timer_and_cancel_removes_it() -> None:
    clock = ManualClock(0.0)
    scheduler = Scheduler(clock)
    log: list[tuple[str, float]] = []
    scheduler.at(10.0, "a", recorder(clock, log, "first"))
    scheduler.at(20.0, "a", recorder(clock, log, "second"))
    scheduler.at(15.0, "b", recorder(clock, log, "cancelled"))
    scheduler.cancel("b")
    assert scheduler.due("a") == 20.0
    await scheduler.advance(60)
    assert log == [("second", 20.0)]


@pytest.mark.anyio
async def test_a_timer_armed_by_a_firing_timer_fires_within_the_same_advance() -> None:
    clock = ManualClock(0.0)
    scheduler = Scheduler(clock)
    log: list[tuple[str, float]] = []

    async def tick() -> None:
        log.append(("tick", clock.now()))
        scheduler.at(clock.now() + 60, "tick", tick)

    scheduler.at(60.0, "tick", tick)
    await scheduler.advance(180)
    assert log == [("tick", 60.0), ("tick", 120.0), ("tick", 180.0)]


@pytest.mark.anyio
async def test_a_failing_timer_does_not_stop_the_next_one() -> None:
    clock = ManualClock(0.0)
    scheduler = Scheduler(clock)
    log: list[tuple[str, float]] = []

    async def boom() -> None:
        raise RuntimeError("boom")

    scheduler.at(1.0, "boom", boom)
    scheduler.at(2.0, "ok", recorder(clock, log, "ok"))
    await scheduler.advance(5)
    assert log == [("ok", 2.0)]


def test_manual_clock_never_goes_backwards() -> None:
    clock = ManualClock(10.0)
    with pytest.raises(ValueError, match="backwards"):
        clock.set(9.0)


@pytest.mark.anyio
async def test_advance_refuses_the_real_clock() -> None:
    with pytest.raises(TypeError):
        await Scheduler(SystemClock()).advance(1)


@pytest.mark.anyio
async def test_while_running_timers_fire_on_the_real_clock() -> None:
    clock = SystemClock()
    scheduler = Scheduler(clock)
    fired = asyncio.Event()

    async def fire() -> None:
        fired.set()

    loop = asyncio.create_task(scheduler.run_forever())
    scheduler.at(clock.now() + 0.05, "soon", fire)  # armed after the loop started waiting
    try:
        await asyncio.wait_for(fired.wait(), timeout=10)  # a hang guard, not a speed assertion
    finally:
        loop.cancel()
    assert scheduler.next_due() is None
