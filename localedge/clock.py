"""Clocks: the real one, and a manual one that tests move forward instead of sleeping."""

from __future__ import annotations

import time
from typing import Protocol

# 2026-01-01T00:00:00Z: a fixed, readable origin for manual clocks.
DEFAULT_START = 1_767_225_600.0


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when told to; it never goes backwards."""

    def __init__(self, start: float = DEFAULT_START) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def set(self, when: float) -> None:
        if when < self._now:
            raise ValueError(f"clock cannot go backwards ({when} < {self._now})")
        self._now = when

    def advance(self, seconds: float) -> None:
        self.set(self._now + seconds)
