"""`ctx.storage` of a SQLite-backed Durable Object: one SQLite file per object.

Writes coalesce the way they do on Cloudflare: the first statement of an event opens a
transaction, and the runtime calls `commit()` when the request, RPC or alarm is over (even if it
raised: writes that completed before an exception are kept). Bulk inserts are therefore one
transaction, and a write is durable before its caller sees the response. The write-ahead log
is checkpointed off the event loop (localedge.checkpointer).

The KV API lives in the table `_cf_KV`, hidden from user SQL as on Cloudflare. Values follow the
RPC rules and are stored as JSON, with bytes, datetimes and `$`-keyed dicts tagged so that they
round-trip exactly.
"""

from __future__ import annotations

import inspect
import json
import sqlite3
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from localedge import limits
from localedge.checkpointer import CHECKPOINT_CHANGES, CHECKPOINTS
from localedge.errors import BindingError, RpcError
from localedge.rpc import decode_value, encode_value, refusal
from localedge.sql import SqlStorage

T = TypeVar("T")
Keys = list[str]
Entries = dict[str, Any]
AlarmHook = Callable[[int | None], None]

BOTH_STARTS = "list() cannot be called with both start and startAfter values."
BAD_LIMIT = "List limit must be positive."
SYNC_ONLY = "transactionSync() callbacks must be synchronous; use transaction() for async work."

_SETUP = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA wal_autocheckpoint = 0",  # checkpoints run on their own thread (checkpointer)
    # 16 MiB of page cache (SQLite's default is 2 MiB): a busy shard's recent pages stay in
    # memory, as a Durable Object's do on Cloudflare, instead of being re-read on each insert.
    "PRAGMA cache_size = -16384",
    # Cloudflare (like D1) enforces foreign keys; SQLite's own default is off.
    "PRAGMA foreign_keys = ON",
    "CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS _cf_METADATA (key TEXT PRIMARY KEY, value) WITHOUT ROWID",
)
_UPSERT = "INSERT OR REPLACE INTO _cf_KV (key, value) VALUES (?, ?)"


class DurableObjectStorage:
    def __init__(self, path: Path, *, on_alarm: AlarmHook | None = None) -> None:
        self._path = path
        self._conn = sqlite3.connect(path, isolation_level=None)
        self._changes_at = 0  # total_changes when a checkpoint was last asked for
        self._sql = SqlStorage(self._conn, before_statement=self._begin)
        self._on_alarm = on_alarm or (lambda _ms: None)
        self._savepoints = 0
        self._open = True
        for statement in _SETUP:
            self._sql.internal(statement)

    @property
    def sql(self) -> SqlStorage:
        return self._sql

    # --- KV ---------------------------------------------------------------------------------
    async def get(self, keys: str | Keys, options: Mapping[str, Any] | None = None) -> Any:
        if isinstance(keys, str):
            row = self._kv("SELECT value FROM _cf_KV WHERE key = ?", _key(keys)).fetchone()
            return None if row is None else decode_value(row[0])
        query = "SELECT key, value FROM _cf_KV WHERE key IN (SELECT value FROM json_each(?))"
        return {
            key: decode_value(value)
            for key, value in self._kv(f"{query} ORDER BY key", _batch(keys))
        }

    async def put(
        self, key: str | Entries, value: Any = None, options: Mapping[str, Any] | None = None
    ) -> None:
        # put({k: v}, options) takes its options second, as on Cloudflare.
        entries = key if isinstance(key, dict) else {_key(key): value}
        if len(entries) > limits.DO_MAX_BATCH_KEYS:
            raise BindingError(limits.DO_TOO_MANY_KEYS)
        rows = [(_key(name), _value(item)) for name, item in entries.items()]
        self._begin()
        self._sql.internal_many(_UPSERT, rows)

    async def delete(self, keys: str | Keys, options: Mapping[str, Any] | None = None) -> Any:
        if isinstance(keys, str):
            return self._kv("DELETE FROM _cf_KV WHERE key = ?", _key(keys)).rowcount > 0
        query = "DELETE FROM _cf_KV WHERE key IN (SELECT value FROM json_each(?))"
        return self._kv(query, _batch(keys)).rowcount

    async def deleteAll(self, options: Mapping[str, Any] | None = None) -> None:
        """Erase KV pairs and every SQL table, as on SQLite-backed objects (the alarm stays)."""
        self._kv("DELETE FROM _cf_KV")
        self._sql.internal("PRAGMA defer_foreign_keys = ON")  # tables go in any order
        for kind, name in self._sql.internal(_USER_SCHEMA).fetchall():
            self._sql.internal(f"DROP {kind.upper()} IF EXISTS {_quote(name)}")

    async def list(
        self,
        options: Mapping[str, Any] | None = None,
        *,
        prefix: str | None = None,
        start: str | None = None,
        startAfter: str | None = None,
        end: str | None = None,
        limit: int | None = None,
        reverse: bool = False,
    ) -> dict[str, Any]:
        given = dict(prefix=prefix, start=start, startAfter=startAfter, end=end, limit=limit)
        given["reverse"] = reverse or None
        merged = {**(options or {}), **{k: v for k, v in given.items() if v is not None}}
        query, params = _list_query(merged)
        return {key: decode_value(value) for key, value in self._kv(query, *params)}

    # --- transactions -----------------------------------------------------------------------
    def transactionSync(self, fn: Callable[[], T]) -> T:
        with self._savepoint():
            result = fn()
            _require_sync(result)
            return result

    async def transaction(self, fn: Callable[[DurableObjectTransaction], Awaitable[T]]) -> T:
        with self._savepoint() as txn:
            return await fn(txn)

    async def sync(self) -> None:
        """Make pending writes durable now (outside any open transaction callback)."""
        if self._savepoints == 0:
            self.commit()

    # --- alarms -----------------------------------------------------------------------------
    async def setAlarm(self, when: int | float | datetime, options: Any = None) -> None:
        scheduled = epoch_ms(when)
        self.store_alarm(scheduled)
        self._on_alarm(scheduled)

    async def getAlarm(self, options: Any = None) -> int | None:
        return self.alarm_ms()

    async def deleteAlarm(self, options: Any = None) -> None:
        self.store_alarm(None)
        self._on_alarm(None)

    def alarm_ms(self) -> int | None:
        """Runtime use: the persisted alarm, read without side effects."""
        row = self._sql.internal("SELECT value FROM _cf_METADATA WHERE key = 'alarm'").fetchone()
        return None if row is None else int(row[0])

    def store_alarm(self, scheduled: int | None) -> None:
        """Runtime use: persist the alarm without re-arming any timer."""
        self._begin()
        self._sql.internal("DELETE FROM _cf_METADATA WHERE key = 'alarm'")
        if scheduled is not None:
            self._sql.internal("INSERT INTO _cf_METADATA VALUES ('alarm', ?)", (scheduled,))

    # --- runtime ----------------------------------------------------------------------------
    def commit(self) -> None:
        """End the event's implicit transaction (skipped while a transaction callback runs)."""
        if self._open and self._savepoints == 0 and self._conn.in_transaction:
            self._sql.internal("COMMIT")
            if self._conn.total_changes - self._changes_at >= CHECKPOINT_CHANGES:
                self._changes_at = self._conn.total_changes
                CHECKPOINTS.request(self._path)

    def rollback(self) -> None:
        """Discard uncommitted writes (used when an object is aborted or fails to start)."""
        if self._conn.in_transaction:
            self._sql.internal("ROLLBACK")
        self._savepoints = 0

    def close(self) -> None:
        if self._open:
            self.commit()
            CHECKPOINTS.release(self._path)
            self._conn.close()  # the last connection: SQLite checkpoints and removes the log
            self._open = False

    def _begin(self) -> None:
        if not self._conn.in_transaction:
            self._sql.internal("BEGIN")

    def _kv(self, query: str, *params: Any) -> sqlite3.Cursor:
        self._begin()
        return self._sql.internal(query, params)

    @contextmanager
    def _savepoint(self) -> Iterator[DurableObjectTransaction]:
        """A nested transaction: released on success, rolled back if the body raises."""
        self._begin()
        self._savepoints += 1
        name = f"_cf_savepoint_{self._savepoints}"
        self._sql.internal(f"SAVEPOINT {name}")
        txn = DurableObjectTransaction(self)
        try:
            yield txn
        except BaseException:
            txn.rollback()
            raise
        finally:
            if txn.rolled_back:
                self._sql.internal(f"ROLLBACK TO {name}")
            self._sql.internal(f"RELEASE {name}")
            self._savepoints -= 1


class DurableObjectTransaction:
    """The `txn` passed to `transaction(fn)`: the storage API, plus `rollback()`."""

    def __init__(self, storage: DurableObjectStorage) -> None:
        self._storage = storage
        self.rolled_back = False

    def rollback(self) -> None:
        self.rolled_back = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)


# Views first, then virtual tables (which drop their shadow tables), then the rest.
_USER_SCHEMA = r"""
SELECT type, name FROM sqlite_master
WHERE type IN ('table', 'view')
  AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_cf\_%' ESCAPE '\'
ORDER BY type = 'table', sql NOT LIKE 'CREATE VIRTUAL TABLE%'
"""


def _list_query(options: Mapping[str, Any]) -> tuple[str, list[Any]]:
    if options.get("start") is not None and options.get("startAfter") is not None:
        raise BindingError(BOTH_STARTS)
    clauses: list[str] = ["1"]
    params: list[Any] = []
    for option, clause in (("start", "key >= ?"), ("startAfter", "key > ?"), ("end", "key < ?")):
        if options.get(option) is not None:
            clauses.append(clause)
            params.append(_key(options[option]))
    if options.get("prefix"):
        clauses.append("substr(key, 1, ?) = ?")
        params += [len(options["prefix"]), _key(options["prefix"])]
    order = "DESC" if options.get("reverse") else "ASC"
    where = " AND ".join(clauses)  # constant clauses; every value is a bound parameter
    query = f"SELECT key, value FROM _cf_KV WHERE {where} ORDER BY key {order}"  # noqa: S608
    limit = options.get("limit")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise BindingError(BAD_LIMIT)
        query, params = f"{query} LIMIT ?", [*params, limit]
    return query, params


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise BindingError(f"Storage keys must be strings, got {type(key).__name__}.")
    size = len(key.encode())
    if size > limits.DO_MAX_KEY_BYTES:
        raise BindingError(limits.DO_KEY_TOO_LONG.format(length=size))
    return key


def _value(value: Any) -> str:
    text = encode_value(value)
    size = len(text.encode())
    if size > limits.DO_MAX_VALUE_BYTES:
        raise BindingError(limits.DO_VALUE_TOO_LARGE.format(length=size))
    return text


def _batch(keys: object) -> str:
    if not isinstance(keys, list):
        raise RpcError(refusal(keys))
    if len(keys) > limits.DO_MAX_BATCH_KEYS:
        raise BindingError(limits.DO_TOO_MANY_KEYS)
    return json.dumps([_key(key) for key in keys])


def _require_sync(result: object) -> None:
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()  # nobody will await it; closing keeps Python from warning
        raise BindingError(SYNC_ONLY)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def epoch_ms(when: int | float | datetime) -> int:
    """Alarm times as Cloudflare takes them: epoch milliseconds or a datetime (naive = UTC)."""
    if isinstance(when, datetime):
        aware = when if when.tzinfo else when.replace(tzinfo=UTC)
        return int(aware.timestamp() * 1000)
    if isinstance(when, bool) or not isinstance(when, int | float):
        raise BindingError(f"setAlarm() needs epoch milliseconds or a datetime, got {when!r}.")
    return int(when)
