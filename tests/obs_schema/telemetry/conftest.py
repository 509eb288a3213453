"""A manual clock installed as the host clock, and a KV namespace on it, for telemetry tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localedge.clock import ManualClock
from localedge.kv import KVNamespace
from obs_schema import host


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    manual = ManualClock()
    host.install(clock=manual.now)
    yield manual
    host.reset()


@pytest.fixture
def kv(tmp_path: Path, clock: ManualClock) -> Iterator[KVNamespace]:
    store = KVNamespace(tmp_path / "kv.sqlite", clock)
    yield store
    store.close()
