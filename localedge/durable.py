"""Durable Objects: namespaces, ids, stubs, live instances and alarms.

One live instance per id, built lazily from the object's own SQLite file `<root>/<hex>.sqlite`.
Every request, RPC call and alarm to an instance runs one at a time (a lock per instance) and
ends with `storage.commit()`. Idle instances beyond `max_resident` are evicted least recently
used, and rebuilt from storage on their next event, as Cloudflare does after hibernation.
Alarms are scheduler timers, persisted in the object's file and in `<root>/index.sqlite` so that
`restore()` re-arms them after a restart.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hashlib
import hmac
import inspect
import logging
import re
import secrets
import sqlite3
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar, cast

from localedge import limits
from localedge.clock import Clock
from localedge.errors import BindingError, RpcError
from localedge.rpc import to_wire
from localedge.scheduler import Scheduler
from localedge.sdk import Body, HeadersInit, Request, Response
from localedge.storage import DurableObjectStorage
from obs_schema import host

T = TypeVar("T")
log = logging.getLogger("localedge.durable")

BAD_ID = "Invalid Durable Object ID: must be 64 hex digits"
FOREIGN_ID = "Durable Object ID is not valid for this namespace."
NO_FETCH = "Handler does not export a fetch() function."
NOT_A_RESPONSE = "Incorrect type for Promise: the Promise did not resolve to 'Response'."
ABORTED = "Durable Object was aborted."
_HEX_ID = re.compile(r"[0-9a-fA-F]{64}")

# The instances whose event the current task is inside. A call back into one of them, directly
# or through other objects, runs within that event (as Cloudflare's input gates allow) instead of
# deadlocking on the instance lock. The owning task is recorded because tasks spawned inside an
# event (waitUntil, create_task) inherit context variables but hold no lock.
_inside: contextvars.ContextVar[tuple[asyncio.Task[Any] | None, frozenset[str]]] = (
    contextvars.ContextVar("durable_inside", default=(None, frozenset()))
)


def _held_by_this_task() -> frozenset[str]:
    owner, keys = _inside.get()
    return keys if owner is not None and owner is asyncio.current_task() else frozenset()


class DurableObjectAbort(BaseException):
    """Raised by `ctx.abort()`; a BaseException so that user `except Exception` cannot eat it."""


class DurableObjectId:
    def __init__(self, hex_id: str, name: str | None = None) -> None:
        self._hex = hex_id
        self.name = name

    def toString(self) -> str:
        return self._hex

    def equals(self, other: object) -> bool:
        return isinstance(other, DurableObjectId) and other._hex == self._hex

    __eq__ = equals
    __str__ = toString

    def __hash__(self) -> int:
        return hash(self._hex)

    def __repr__(self) -> str:
        return f"DurableObjectId({self._hex!r}, name={self.name!r})"


@asynccontextmanager
async def _turn(key: str, lock: asyncio.Lock) -> AsyncIterator[None]:
    """Hold an instance for one event (re-entrant for the task already inside it)."""
    held = _held_by_this_task()
    if key in held:
        yield
        return
    async with lock:
        token = _inside.set((asyncio.current_task(), held | {key}))
        try:
            yield
        finally:
            _inside.reset(token)


class DurableObjectState:
    """`ctx` of a Durable Object instance."""

    def __init__(
        self, id: DurableObjectId, storage: DurableObjectStorage, lock: asyncio.Lock
    ) -> None:
        self.id = id
        self.storage = storage
        self._lock = lock
        self._constructing = False
        self._blockers: list[asyncio.Future[Any]] = []

    def blockConcurrencyWhile(self, fn: Callable[[], Awaitable[T]]) -> asyncio.Future[T]:
        """Run `fn` while no other event may start; usable from the (synchronous) constructor."""
        if self._constructing:
            # The constructing event holds the lock and awaits these before its handler runs.
            blocker = asyncio.ensure_future(fn())
            self._blockers.append(blocker)
            return blocker
        if self.id.toString() in _held_by_this_task():
            return asyncio.ensure_future(fn())  # this event already holds the lock
        return asyncio.ensure_future(self._locked(fn))

    def waitUntil(self, work: Coroutine[Any, Any, Any]) -> None:
        host.defer(self._committing(work))

    def abort(self, reason: str | None = None) -> NoReturn:
        raise DurableObjectAbort(reason or ABORTED)

    def build(self, factory: Callable[[DurableObjectState], Any]) -> Any:
        """Runtime use: construct the instance, noting `blockConcurrencyWhile` calls."""
        self._constructing = True
        try:
            return factory(self)
        except BaseException:
            self._cancel_blockers()
            raise
        finally:
            self._constructing = False

    async def settle(self) -> None:
        """Runtime use: wait for the constructor's `blockConcurrencyWhile` callbacks."""
        try:
            for blocker in self._blockers:
                await blocker
        except BaseException:
            self._cancel_blockers()
            raise
        self._blockers = []

    def _cancel_blockers(self) -> None:
        for blocker in self._blockers:
            blocker.cancel()
        self._blockers = []

    async def _locked(self, fn: Callable[[], Awaitable[T]]) -> T:
        async with _turn(self.id.toString(), self._lock):
            return await self._committing(fn())

    async def _committing(self, work: Awaitable[T]) -> T:
        # Work outside any event has no event end to commit its writes: commit when it ends.
        try:
            return await work
        finally:
            self.storage.commit()


@dataclass
class _Resident:
    """An object whose storage is open; `instance` is None until its next event builds it."""

    id: DurableObjectId
    storage: DurableObjectStorage
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    state: DurableObjectState | None = None
    instance: Any = None
    pending: int = 0  # events running or queued: only idle residents are evicted


EventFn = Callable[[_Resident], Awaitable[T]]


_ID_MEMO = 4096


class NamespaceIds:
    """What a namespace binding does without reaching an object: ids and stubs. Shared by the
    namespace that hosts the objects and by one whose objects live in another process."""

    def __init__(self, worker: str, class_name: str) -> None:
        self.worker, self.class_name = worker, class_name
        # Ids carry a MAC under a per-namespace key, as workerd's do: foreign ids are refused.
        self._key = hashlib.sha256(f"{worker}\0{class_name}".encode()).digest()
        self._ids: dict[str, str] = {}
        self._good_ids: dict[str, str] = {}

    # --- ids and stubs ----------------------------------------------------------------------
    def idFromName(self, name: str) -> DurableObjectId:
        if not isinstance(name, str):
            raise BindingError(f"idFromName() needs a str, got {type(name).__name__}.")
        return DurableObjectId(self._id_of_name(name), name)

    def idFromString(self, hex_id: str) -> DurableObjectId:
        if not isinstance(hex_id, str) or not _HEX_ID.fullmatch(hex_id):
            raise BindingError(BAD_ID)
        return DurableObjectId(self._verified(hex_id.lower()))

    def newUniqueId(self, options: Any = None) -> DurableObjectId:
        return DurableObjectId(self._seal(secrets.token_bytes(16)))

    def get(self, id: DurableObjectId) -> DurableObjectStub:
        self._verified(id.toString())
        return DurableObjectStub(self, id)

    def getByName(self, name: str) -> DurableObjectStub:
        return self.get(self.idFromName(name))

    def _id_of_name(self, name: str) -> str:
        # Pure in (key, name), and Workers ask for the same shard names on every request:
        # remembered, as ids already verified are, to spare three HMACs per stub.
        if (known := self._ids.get(name)) is None:
            known = self._seal(self._mac(name.encode()))
            self._remember(self._ids, name, known)
        return known

    def _verified(self, hex_id: str) -> str:
        if hex_id not in self._good_ids:
            if self._seal(bytes.fromhex(hex_id[:32])) != hex_id:
                raise BindingError(FOREIGN_ID)
            self._remember(self._good_ids, hex_id, hex_id)
        return hex_id

    @staticmethod
    def _remember(memo: dict[str, str], key: str, value: str) -> None:
        if len(memo) >= _ID_MEMO:
            memo.clear()  # bounded: names can be unbounded (one object per user, say)
        memo[key] = value

    def _mac(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()[:16]

    def _seal(self, base: bytes) -> str:
        return (base + self._mac(base)).hex()

    # --- events (where the objects are) -----------------------------------------------------
    async def _call(self, id: DurableObjectId, method: str, args: Any, kwargs: Any) -> Any:
        raise NotImplementedError

    async def _fetch(self, id: DurableObjectId, request: Request) -> Response:
        raise NotImplementedError


class DurableObjectNamespace(NamespaceIds):
    """A namespace whose objects live in this process."""

    def __init__(
        self,
        *,
        worker: str,
        class_name: str,
        cls: type,
        root: Path,
        clock: Clock,
        scheduler: Scheduler,
        max_resident: int = 256,
    ) -> None:
        super().__init__(worker, class_name)
        self.cls = cls
        self.env: Any = None  # set by the runtime once the Worker's env exists
        self._root, self._clock, self._scheduler = root, clock, scheduler
        self._max_resident = max_resident
        self._residents: OrderedDict[str, _Resident] = OrderedDict()
        self._names: dict[str, str] = {}
        self._retries: dict[str, int] = {}
        self._armed: set[str] = set()
        root.mkdir(parents=True, exist_ok=True)
        self._index = _Index(root / "index.sqlite")

    # --- events -----------------------------------------------------------------------------
    async def _call(self, id: DurableObjectId, method: str, args: Any, kwargs: Any) -> Any:
        """An RPC call: arguments and result cross the boundary by the RPC rules."""
        return await self._call_crossed(id, method, to_wire(list(args)), to_wire(dict(kwargs)))

    async def _call_crossed(
        self, id: DurableObjectId, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        """`_call` with arguments that have crossed already: nobody else holds them."""

        async def event(resident: _Resident) -> Any:
            result = _rpc_method(resident.instance, method)(*args, **kwargs)
            return to_wire(await result if inspect.isawaitable(result) else result)

        return await self._dispatch(id, event)

    async def _fetch(self, id: DurableObjectId, request: Request) -> Response:
        return await self._dispatch(id, functools.partial(_fetch_event, request))

    async def _dispatch(self, id: DurableObjectId, event: EventFn[T]) -> T:
        """Run one event on the object's instance, after every event queued before it."""
        resident = self._resident(id)
        resident.pending += 1
        try:
            async with _turn(id.toString(), resident.lock):
                return await self._run(resident, event)
        finally:
            resident.pending -= 1
            self._evict_idle()

    async def _run(self, resident: _Resident, event: EventFn[T]) -> T:
        try:
            await self._start(resident)
            return await event(resident)
        except DurableObjectAbort as abort:
            self._reset(resident)
            raise BindingError(str(abort)) from None
        finally:
            resident.storage.commit()  # also after an exception: completed writes are kept

    async def _start(self, resident: _Resident) -> None:
        if resident.state is None:
            state = DurableObjectState(resident.id, resident.storage, resident.lock)
            resident.instance = state.build(lambda ctx: self.cls(ctx, self.env))
            resident.state = state
        try:
            await resident.state.settle()
        except BaseException:
            self._reset(resident)  # a failed blockConcurrencyWhile resets the object
            raise

    def _reset(self, resident: _Resident) -> None:
        resident.state, resident.instance = None, None
        resident.storage.rollback()

    def _resident(self, id: DurableObjectId) -> _Resident:
        hex_id = id.toString()
        if (resident := self._residents.get(hex_id)) is not None:
            self._residents.move_to_end(hex_id)
            return resident
        hook = functools.partial(self._alarm_set, hex_id)
        storage = DurableObjectStorage(self._root / f"{hex_id}.sqlite", on_alarm=hook)
        resident = self._residents[hex_id] = _Resident(id, storage)
        if id.name is not None:
            self._names[hex_id] = id.name
        self._index.remember(hex_id, id.name)
        return resident

    def _evict_idle(self) -> None:
        for hex_id, resident in list(self._residents.items()):
            if len(self._residents) <= self._max_resident:
                return
            if resident.pending == 0:
                del self._residents[hex_id]
                resident.storage.close()

    # --- alarms -----------------------------------------------------------------------------
    def _alarm_set(self, hex_id: str, scheduled: int | None) -> None:
        """`setAlarm`/`deleteAlarm` from the object: a new alarm starts with no retries."""
        self._retries.pop(hex_id, None)
        self._arm(hex_id, scheduled)

    def _arm(self, hex_id: str, scheduled: int | None) -> None:
        self._index.set_alarm(hex_id, scheduled)
        key = self._timer(hex_id)
        if scheduled is None:
            self._scheduler.cancel(key)
            self._armed.discard(hex_id)
            return
        self._scheduler.at(scheduled / 1000, key, functools.partial(self._fire, hex_id))
        self._armed.add(hex_id)

    def _timer(self, hex_id: str) -> str:
        return f"alarm:{self.worker}:{self.class_name}:{hex_id}"

    async def _fire(self, hex_id: str) -> None:
        self._armed.discard(hex_id)
        retry = self._retries.pop(hex_id, 0)
        alarm = functools.partial(self._alarm_event, retry)
        try:
            await self._dispatch(DurableObjectId(hex_id, self._names.get(hex_id)), alarm)
        except Exception:
            # The object's own failure: log it like the platform does; a retry is already armed.
            log.warning(
                "alarm of %s %s failed (retry %d)", self.class_name, hex_id, retry, exc_info=True
            )

    async def _alarm_event(self, retry: int, resident: _Resident) -> None:
        hex_id, storage = resident.id.toString(), resident.storage
        due = storage.alarm_ms()
        if due is not None and due > round(self._clock.now() * 1000):
            self._arm(hex_id, due)  # moved later since this timer was set
            return
        self._arm(hex_id, None)
        storage.store_alarm(None)  # getAlarm() is None while the handler runs
        handler = getattr(resident.instance, "alarm", None)
        if due is None or handler is None:
            return
        try:
            await handler({"retryCount": retry, "isRetry": retry > 0})
        except Exception:
            self._schedule_retry(resident, retry)
            raise

    def _schedule_retry(self, resident: _Resident, retry: int) -> None:
        # A handler that set a new alarm before failing keeps that one instead.
        if resident.storage.alarm_ms() is not None or retry >= limits.DO_ALARM_MAX_RETRIES:
            return
        due = round((self._clock.now() + 2 ** (retry + 1)) * 1000)  # 2 s, 4 s, 8 s...
        resident.storage.store_alarm(due)
        self._arm(resident.id.toString(), due)
        self._retries[resident.id.toString()] = retry + 1

    # --- lifecycle --------------------------------------------------------------------------
    async def restore(self) -> None:
        """On startup: re-arm every persisted alarm."""
        for hex_id, name, alarm in self._index.rows():
            if name is not None:
                self._names[hex_id] = name
            if alarm is not None:
                self._arm(hex_id, alarm)

    async def close(self) -> None:
        """Commit and close every open object; timers of this namespace stop."""
        for hex_id in list(self._armed):
            self._scheduler.cancel(self._timer(hex_id))
        self._armed.clear()
        for resident in self._residents.values():
            resident.storage.close()
        self._residents.clear()
        self._index.close()


class DurableObjectStub:
    def __init__(self, namespace: NamespaceIds, id: DurableObjectId) -> None:
        self.id = id
        self.name = id.name
        self._namespace = namespace

    async def fetch(
        self,
        url_or_request: str | Request,
        *,
        method: str = "GET",
        headers: HeadersInit = None,
        body: Body = None,
    ) -> Response:
        request = await _request(url_or_request, method, headers, body)
        return await self._namespace._fetch(self.id, request)

    def __getattr__(self, method: str) -> Callable[..., Coroutine[Any, Any, Any]]:
        if method.startswith("_"):
            raise AttributeError(method)

        async def rpc(*args: Any, **kwargs: Any) -> Any:
            return await self._namespace._call(self.id, method, args, kwargs)

        return rpc


async def _request(target: str | Request, method: str, headers: HeadersInit, body: Body) -> Request:
    if isinstance(target, Request):
        # The object gets its own copy, never the caller's Request.
        items = list(target.headers.items())
        return Request(target.url, target.method, items, await target.bytes(), target.cf)
    if not target.startswith(("http://", "https://")):
        raise BindingError(f"Fetch API cannot load: {target}")
    return Request(target, method, headers, body)


async def _fetch_event(request: Request, resident: _Resident) -> Response:
    handler = getattr(resident.instance, "fetch", None)
    if handler is None:
        raise BindingError(NO_FETCH)
    response = await handler(request)
    if not isinstance(response, Response):
        raise BindingError(NOT_A_RESPONSE)
    return response


def _rpc_method(instance: Any, name: str) -> Callable[..., Any]:
    handler = getattr(instance, name, None)
    if name.startswith("_") or name in ("ctx", "env") or not callable(handler):
        raise RpcError(f'The RPC receiver does not implement the method "{name}".')
    return cast(Callable[..., Any], handler)


class _Index:
    """`<root>/index.sqlite`: each object's id, name and pending alarm, read by `restore()`."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS objects (hex TEXT PRIMARY KEY, name TEXT, alarm_ms INTEGER)"
        )

    def remember(self, hex_id: str, name: str | None) -> None:
        self._conn.execute(
            "INSERT INTO objects (hex, name) VALUES (?, ?) "
            "ON CONFLICT (hex) DO UPDATE SET name = coalesce(objects.name, excluded.name)",
            (hex_id, name),
        )

    def set_alarm(self, hex_id: str, scheduled: int | None) -> None:
        self._conn.execute(
            "INSERT INTO objects (hex, alarm_ms) VALUES (?, ?) "
            "ON CONFLICT (hex) DO UPDATE SET alarm_ms = excluded.alarm_ms",
            (hex_id, scheduled),
        )

    def rows(self) -> list[tuple[str, str | None, int | None]]:
        return self._conn.execute("SELECT hex, name, alarm_ms FROM objects").fetchall()

    def close(self) -> None:
        self._conn.close()
