"""Durable Objects: ids, one serialised instance per id, RPC and fetch, persistence, alarms."""

from __future__ import annotations

import asyncio
import pathlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from types import SimpleNamespace
from typing import Any

import pytest

from localedge import limits
from localedge.clock import DEFAULT_START, ManualClock
from localedge.durable import (
    BAD_ID,
    FOREIGN_ID,
    NO_FETCH,
    DurableObjectNamespace,
    DurableObjectState,
)
from localedge.errors import BindingError, RpcError
from localedge.scheduler import Scheduler
from localedge.sdk import DurableObject, Request, Response
from obs_schema import host

START_MS = int(DEFAULT_START * 1000)


class Counter(DurableObject):
    """Counts in storage; records constructions and events in `env.log`."""

    def __init__(self, ctx: DurableObjectState, env: Any) -> None:
        super().__init__(ctx, env)
        env.log.append(f"construct {ctx.id.name}")

    async def increment(self, by: int = 1) -> int:
        count = (await self.ctx.storage.get("count") or 0) + by
        await self.ctx.storage.put("count", count)
        return count

    async def remember(self, item: dict[str, Any]) -> dict[str, Any]:
        item["seen"] = True  # mutates the callee's copy only
        await self.ctx.storage.put("item", item)
        return item

    async def work(self, label: str) -> str:
        self.env.log.append(f"{label} starts")
        if label == "first":
            self.env.started.set()
            await self.env.gate.wait()
        self.env.log.append(f"{label} ends")
        return label

    async def fetch(self, request: Request) -> Response:
        return Response(f"{request.method} {request.url} {await request.text()}", status=201)

    async def fail_after_write(self) -> None:
        await self.ctx.storage.put("written", True)
        raise RuntimeError("after the write")

    async def abort_after_write(self) -> None:
        await self.ctx.storage.put("aborted", True)
        self.ctx.abort("reset requested")

    async def spawn(self) -> None:
        stub: Any = self.env.NS.get(self.ctx.id)
        self.env.spawned = asyncio.create_task(stub.work("child"))
        for _ in range(5):
            await asyncio.sleep(0)  # the child gets every chance to run now
        self.env.log.append("spawn ends")

    async def count_later(self) -> None:
        self.ctx.waitUntil(self.increment(100))

    async def call_self(self) -> int:
        stub: Any = self.env.NS.get(self.ctx.id)
        return int(await stub.increment(10))


class Alarmed(DurableObject):
    """Sets alarms and records when they fire; fails `env.failures` times first."""

    async def arm(self, delay_ms: int) -> None:
        await self.ctx.storage.setAlarm(round(self.env.clock.now() * 1000) + delay_ms)

    async def disarm(self) -> None:
        await self.ctx.storage.deleteAlarm()

    async def alarm_at(self) -> int | None:
        scheduled: int | None = await self.ctx.storage.getAlarm()
        return scheduled

    async def alarm(self, info: dict[str, Any]) -> None:
        self.env.fired.append((self.env.clock.now() - DEFAULT_START, info))
        if len(self.env.fired) <= self.env.failures:
            raise RuntimeError("alarm handler failed")
        if self.env.repeat_ms:
            await self.arm(self.env.repeat_ms)


class SlowStart(DurableObject):
    def __init__(self, ctx: DurableObjectState, env: Any) -> None:
        super().__init__(ctx, env)
        self.ready = False
        ctx.blockConcurrencyWhile(self.load)

    async def load(self) -> None:
        await asyncio.sleep(0)  # yields once; no wall-clock time passes
        self.ready = (await self.ctx.storage.get("missing")) is None

    async def is_ready(self) -> bool:
        return self.ready


class NoFetch(DurableObject):
    pass


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def scheduler(clock: ManualClock) -> Scheduler:
    return Scheduler(clock)


def new_env(clock: ManualClock, *, failures: int = 0, repeat_ms: int = 0) -> SimpleNamespace:
    """The Worker env the objects see (plus test probes: a log, fired alarms, gates)."""
    return SimpleNamespace(
        clock=clock, failures=failures, repeat_ms=repeat_ms, log=[], fired=[],
        gate=asyncio.Event(), started=asyncio.Event(),
    )  # fmt: skip


Factory = Callable[..., DurableObjectNamespace]


@pytest.fixture
async def make(
    tmp_path: pathlib.Path, clock: ManualClock, scheduler: Scheduler
) -> AsyncIterator[Factory]:
    opened: list[DurableObjectNamespace] = []

    def factory(cls: type = Counter, env: SimpleNamespace | None = None, **options: Any) -> Any:
        options = {"root": tmp_path / "do", "scheduler": scheduler, **options}
        namespace = DurableObjectNamespace(
            worker="monitoring", class_name=cls.__name__, cls=cls, clock=clock, **options
        )
        namespace.env = env or new_env(clock)
        namespace.env.NS = namespace
        opened.append(namespace)
        return namespace

    yield factory
    for namespace in opened:
        await namespace.close()


# --- ids ------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_id_from_name_is_deterministic_across_restarts(make: Factory) -> None:
    first = make()
    before = first.idFromName("tenant-42")
    await first.close()
    after = make().idFromName("tenant-42")
    assert after == before
    assert after.toString() == before.toString()
    assert len(after.toString()) == 64
    assert after.name == "tenant-42"


@pytest.mark.anyio
async def test_ids_differ_by_name_and_by_class(make: Factory) -> None:
    counters, alarms = make(Counter), make(Alarmed)
    assert counters.idFromName("a") != counters.idFromName("b")
    assert counters.idFromName("a") != alarms.idFromName("a")
    assert counters.newUniqueId() != counters.newUniqueId()


@pytest.mark.anyio
async def test_id_from_string_accepts_only_this_namespaces_ids(make: Factory) -> None:
    counters, alarms = make(Counter), make(Alarmed)
    unique = counters.newUniqueId()
    assert counters.idFromString(unique.toString().upper()).equals(unique)
    for text, message in [
        ("abc", BAD_ID),
        ("g" * 64, BAD_ID),
        (str(alarms.newUniqueId()), FOREIGN_ID),
    ]:
        with pytest.raises(BindingError) as error:
            counters.idFromString(text)
        assert str(error.value) == message
    with pytest.raises(BindingError, match=FOREIGN_ID):
        counters.get(alarms.idFromName("x"))


# --- instances, serialisation, RPC, fetch ---------------------------------------------------
@pytest.mark.anyio
async def test_each_id_has_exactly_one_live_instance(make: Factory) -> None:
    ns = make()
    id_ = ns.idFromName("one")
    results = [
        await ns.get(id_).increment(),
        await ns.getByName("one").increment(),
        await ns.get(ns.idFromString(id_.toString())).increment(),
    ]
    await ns.getByName("two").increment()
    assert results == [1, 2, 3]
    assert ns.env.log == ["construct one", "construct two"]


@pytest.mark.anyio
async def test_events_on_one_object_run_one_at_a_time(make: Factory) -> None:
    ns = make()
    stub = ns.getByName("serial")
    first = asyncio.create_task(stub.work("first"))
    await ns.env.started.wait()
    second = asyncio.create_task(stub.work("second"))
    for _ in range(5):
        await asyncio.sleep(0)  # give the second call every chance to start early
    ns.env.gate.set()
    assert list(await asyncio.gather(first, second)) == ["first", "second"]
    assert ns.env.log[1:] == ["first starts", "first ends", "second starts", "second ends"]


@pytest.mark.anyio
async def test_rpc_arguments_and_results_are_copies(make: Factory) -> None:
    stub = make().getByName("copies")
    sent = {"tags": ["a"]}
    received = await stub.remember(sent)
    received["tags"].append("local")
    assert sent == {"tags": ["a"]}
    assert received == {"tags": ["a", "local"], "seen": True}
    assert await stub.remember({"tags": []}) == {"tags": [], "seen": True}


@pytest.mark.parametrize(
    ("method", "args", "error", "message"),
    [
        ("remember", ({"point": (1, 2)},), RpcError, "<class 'tuple'> cannot be sent over RPC."),
        ("missing", (), RpcError, 'The RPC receiver does not implement the method "missing".'),
        ("ctx", (), RpcError, 'The RPC receiver does not implement the method "ctx".'),
        ("fail_after_write", (), RuntimeError, "after the write"),
    ],
)
@pytest.mark.anyio
async def test_rpc_failures_reach_the_caller(
    make: Factory, method: str, args: tuple[Any, ...], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as raised:
        await getattr(make().getByName("rpc"), method)(*args)
    assert str(raised.value) == message


@pytest.mark.anyio
async def test_an_object_may_call_itself_without_deadlocking(make: Factory) -> None:
    assert await make().getByName("self").call_self() == 10


@pytest.mark.anyio
async def test_a_task_spawned_inside_an_event_waits_for_the_event_to_end(make: Factory) -> None:
    ns = make()
    await ns.getByName("parent").spawn()
    await ns.env.spawned
    assert ns.env.log[1:] == ["spawn ends", "child starts", "child ends"]


@pytest.mark.anyio
async def test_fetch_delivers_a_request_and_returns_the_response(make: Factory) -> None:
    stub = make().getByName("web")
    response = await stub.fetch("https://do/ping", method="POST", body="hello")
    assert (response.status, await response.text()) == (201, "POST https://do/ping hello")
    copied = await stub.fetch(Request("https://do/again", method="PUT", body=b"x"))
    assert await copied.text() == "PUT https://do/again x"


@pytest.mark.parametrize(
    ("cls", "url", "message"),
    [
        (Counter, "/relative", "Fetch API cannot load: /relative"),
        (NoFetch, "https://do/", NO_FETCH),
    ],
)
@pytest.mark.anyio
async def test_fetch_failures(make: Factory, cls: type, url: str, message: str) -> None:
    with pytest.raises(BindingError) as error:
        await make(cls).getByName("web").fetch(url)
    assert str(error.value) == message


@pytest.mark.anyio
async def test_block_concurrency_while_in_the_constructor_runs_before_the_first_event(
    make: Factory,
) -> None:
    assert await make(SlowStart).getByName("slow").is_ready() is True


# --- durability, eviction, abort ------------------------------------------------------------
def stored_keys(root: pathlib.Path, hex_id: str) -> list[str]:
    with sqlite3.connect(root / f"{hex_id}.sqlite") as reader:
        return [key for (key,) in reader.execute("SELECT key FROM _cf_KV ORDER BY key")]


@pytest.mark.anyio
async def test_writes_are_committed_when_the_event_ends_even_if_it_raised(
    make: Factory, tmp_path: pathlib.Path
) -> None:
    stub = make().getByName("durable")
    await stub.increment()
    with pytest.raises(RuntimeError):
        await stub.fail_after_write()
    assert stored_keys(tmp_path / "do", stub.id.toString()) == ["count", "written"]


@pytest.mark.anyio
async def test_state_survives_closing_the_namespace(make: Factory) -> None:
    first = make()
    await first.getByName("kept").increment(5)
    await first.close()
    second = make()
    assert await second.getByName("kept").increment() == 6
    assert second.env.log == ["construct kept"]


@pytest.mark.anyio
async def test_evicted_objects_are_rebuilt_from_storage(make: Factory) -> None:
    ns = make(max_resident=1)
    for _ in range(2):
        await ns.getByName("a").increment()
        await ns.getByName("b").increment()
    assert await ns.getByName("a").increment() == 3
    assert ns.env.log == ["construct a", "construct b"] * 2 + ["construct a"]


@pytest.mark.anyio
async def test_abort_resets_the_object_and_discards_its_uncommitted_writes(
    make: Factory,
) -> None:
    ns = make()
    stub = ns.getByName("aborted")
    await stub.increment()
    with pytest.raises(BindingError, match=r"^reset requested$"):
        await stub.abort_after_write()
    assert await stub.increment() == 2
    assert ns.env.log == ["construct aborted", "construct aborted"]


@pytest.mark.anyio
async def test_work_handed_to_wait_until_is_deferred_and_its_writes_committed(
    make: Factory, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deferred: list[Coroutine[Any, Any, Any]] = []
    monkeypatch.setattr(host, "_defer", deferred.append)
    stub = make().getByName("later")
    await stub.count_later()
    assert len(deferred) == 1
    assert stored_keys(tmp_path / "do", stub.id.toString()) == []
    await deferred[0]
    assert stored_keys(tmp_path / "do", stub.id.toString()) == ["count"]


# --- alarms ---------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_an_alarm_fires_at_its_exact_time_and_is_then_cleared(
    make: Factory, scheduler: Scheduler
) -> None:
    ns = make(Alarmed)
    stub = ns.getByName("timer")
    await stub.arm(60_000)
    assert await stub.alarm_at() == START_MS + 60_000
    await scheduler.advance(59.999)
    assert ns.env.fired == []
    await scheduler.advance(0.001)
    assert ns.env.fired == [(60.0, {"retryCount": 0, "isRetry": False})]
    assert await stub.alarm_at() is None


@pytest.mark.anyio
async def test_a_deleted_alarm_never_fires(make: Factory, scheduler: Scheduler) -> None:
    ns = make(Alarmed)
    await ns.getByName("timer").arm(1_000)
    await ns.getByName("timer").disarm()
    await scheduler.advance(3600)
    assert ns.env.fired == []


@pytest.mark.anyio
async def test_a_handler_may_set_the_next_alarm(
    make: Factory, clock: ManualClock, scheduler: Scheduler
) -> None:
    ns = make(Alarmed, new_env(clock, repeat_ms=30_000))
    await ns.getByName("tick").arm(30_000)
    await scheduler.advance(100)
    assert [at for at, _ in ns.env.fired] == [30.0, 60.0, 90.0]


@pytest.mark.anyio
async def test_a_failing_alarm_is_retried_with_exponential_backoff(
    make: Factory, clock: ManualClock, scheduler: Scheduler
) -> None:
    ns = make(Alarmed, new_env(clock, failures=2))
    await ns.getByName("flaky").arm(10_000)
    await scheduler.advance(3600)
    assert ns.env.fired == [
        (10.0, {"retryCount": 0, "isRetry": False}),
        (12.0, {"retryCount": 1, "isRetry": True}),
        (16.0, {"retryCount": 2, "isRetry": True}),
    ]
    assert await ns.getByName("flaky").alarm_at() is None


@pytest.mark.anyio
async def test_retries_stop_after_the_limit(
    make: Factory, clock: ManualClock, scheduler: Scheduler
) -> None:
    ns = make(Alarmed, new_env(clock, failures=1_000))
    await ns.getByName("broken").arm(0)
    await scheduler.advance(3600)
    assert [at for at, _ in ns.env.fired] == [0.0, 2.0, 6.0, 14.0, 30.0, 62.0, 126.0]
    assert len(ns.env.fired) == 1 + limits.DO_ALARM_MAX_RETRIES
    assert await ns.getByName("broken").alarm_at() is None


@pytest.mark.anyio
async def test_alarms_are_rearmed_after_a_restart(
    make: Factory, tmp_path: pathlib.Path, clock: ManualClock
) -> None:
    before = make(Alarmed)
    await before.getByName("persistent").arm(120_000)
    await before.close()
    later = Scheduler(clock)  # a new process: nothing armed until restore()
    after = make(Alarmed, scheduler=later)
    await after.restore()
    await later.advance(120)
    assert after.env.fired == [(120.0, {"retryCount": 0, "isRetry": False})]
