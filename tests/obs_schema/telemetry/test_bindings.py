"""Wrapped bindings behave exactly like the real ones, and every call is timed and recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from localedge.clock import ManualClock
from localedge.durable import DurableObjectNamespace
from localedge.errors import BindingError
from localedge.kv import KVNamespace
from localedge.r2 import R2Bucket
from localedge.scheduler import Scheduler
from localedge.sdk import DurableObject
from obs_schema.telemetry.bindings import InstrumentedEnv, kind_of, size_of, wrap


class Calls:
    """A sink that keeps what it was told."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, str, float, int]] = []

    def op(self, kind: str, binding: str, op: str, outcome: str, seconds: float, n: int) -> None:
        self.seen.append((kind, binding, op, outcome, seconds, n))


class Counter(DurableObject):
    async def bump(self, by: int) -> int:
        return by + 1


@pytest.fixture
def bucket(tmp_path: Path, clock: ManualClock) -> Iterator[R2Bucket]:
    store = R2Bucket(tmp_path / "r2", clock)
    yield store
    store.close()


@pytest.fixture
async def namespace(tmp_path: Path, clock: ManualClock) -> AsyncIterator[DurableObjectNamespace]:
    ns = DurableObjectNamespace(
        worker="w", class_name="Counter", cls=Counter, root=tmp_path / "do", clock=clock,
        scheduler=Scheduler(clock),
    )  # fmt: skip
    yield ns
    await ns.close()


@pytest.mark.anyio
async def test_bindings_are_recognised_by_what_they_are(
    kv: KVNamespace, bucket: R2Bucket, namespace: DurableObjectNamespace
) -> None:
    assert [kind_of(v) for v in (kv, bucket, namespace, "secret", None, 3)] == [
        "kv", "r2", "do", None, None, None,
    ]  # fmt: skip


@pytest.mark.anyio
async def test_kv_calls_are_timed_with_hit_miss_and_bytes(
    kv: KVNamespace, clock: ManualClock
) -> None:
    calls = Calls()
    real_get = kv.get

    async def slow_get(*args: Any, **kwargs: Any) -> Any:
        clock.advance(0.25)  # the test double's latency, on the manual clock
        return await real_get(*args, **kwargs)

    kv.get = slow_get  # type: ignore[method-assign]
    timed = wrap("CONFIG", kv, calls)
    await timed.put("k", "héllo")
    assert await timed.get("k") == "héllo"
    assert await timed.get("absent") is None
    assert (await timed.getWithMetadata("k"))["value"] == "héllo"
    assert calls.seen == [
        ("kv", "CONFIG", "put", "ok", 0.0, 6),
        ("kv", "CONFIG", "get", "hit", 0.25, 6),
        ("kv", "CONFIG", "get", "miss", 0.25, 0),
        ("kv", "CONFIG", "getWithMetadata", "hit", 0.0, 6),
    ]


@pytest.mark.anyio
async def test_errors_are_recorded_and_raised_unchanged(kv: KVNamespace) -> None:
    calls = Calls()
    timed = wrap("CONFIG", kv, calls)
    with pytest.raises(BindingError, match="exceeds key length limit"):
        await timed.get("k" * 600)
    assert calls.seen == [("kv", "CONFIG", "get", "error", 0.0, 0)]


@pytest.mark.anyio
async def test_r2_and_durable_object_calls_are_timed(
    bucket: R2Bucket, namespace: DurableObjectNamespace
) -> None:
    calls = Calls()
    r2 = wrap("ARCHIVE", bucket, calls)
    await r2.put("a.txt", b"12345")
    assert (await r2.get("a.txt")) is not None and await r2.head("nope") is None
    objects = wrap("COUNTERS", namespace, calls)
    stub = objects.get(objects.idFromName("x"))
    assert await stub.bump(4) == 5
    assert await objects.getByName("y").bump(1) == 2
    assert calls.seen == [
        ("r2", "ARCHIVE", "put", "ok", 0.0, 5),
        ("r2", "ARCHIVE", "get", "hit", 0.0, 5),
        ("r2", "ARCHIVE", "head", "miss", 0.0, 0),
        ("do", "COUNTERS", "bump", "ok", 0.0, 0),
        ("do", "COUNTERS", "bump", "ok", 0.0, 0),
    ]


def test_the_env_stays_read_only_and_passes_other_values_through(kv: KVNamespace) -> None:
    raw = {"CONFIG": kv, "TOKEN": "s3cret"}

    class Env:
        CONFIG = kv
        TOKEN = "s3cret"

        def __iter__(self) -> Iterator[str]:
            return iter(raw)

        def __len__(self) -> int:
            return len(raw)

    env = InstrumentedEnv(Env(), Calls(), {})
    assert env.TOKEN == "s3cret" and env["TOKEN"] == "s3cret"
    assert env.CONFIG is env.CONFIG and env.CONFIG is not kv  # one wrapper per binding
    assert sorted(env) == ["CONFIG", "TOKEN"] and len(env) == 2
    with pytest.raises(AttributeError):
        env.MISSING  # noqa: B018
    with pytest.raises(KeyError):
        env["MISSING"]
    with pytest.raises(AttributeError, match="read-only"):
        env.TOKEN = "x"


@pytest.mark.parametrize(
    ("value", "size"), [("abc", 3), ("é", 2), (b"1234", 4), (memoryview(b"12"), 2), ({}, 0)]
)
def test_sizes_are_counted_in_bytes_when_cheap_to_know(value: object, size: int) -> None:
    assert size_of(value) == size
