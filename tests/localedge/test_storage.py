"""`ctx.storage` of a SQLite-backed Durable Object: KV API, transactions, alarms, durability."""

from __future__ import annotations

import pathlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from localedge import limits
from localedge.errors import BindingError, RpcError
from localedge.storage import BAD_LIMIT, BOTH_STARTS, SYNC_ONLY, DurableObjectStorage

WHEN = datetime(2026, 1, 1, tzinfo=UTC)
WHEN_MS = 1_767_225_600_000


@pytest.fixture
def path(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "object.sqlite"


@pytest.fixture
async def storage(path: pathlib.Path) -> AsyncIterator[DurableObjectStorage]:
    opened = DurableObjectStorage(path)
    yield opened
    opened.close()


def committed_keys(path: pathlib.Path) -> list[str]:
    """What another connection sees: only committed writes."""
    with sqlite3.connect(path) as reader:
        return [key for (key,) in reader.execute("SELECT key FROM _cf_KV ORDER BY key")]


@pytest.mark.parametrize(
    "value",
    [
        "text",
        42,
        1.5,
        True,
        None,
        [1, "two", [3.0]],
        {"blob": b"\x00\xff", "at": WHEN, "nested": {"$bytes": "a user key"}},
    ],
)
@pytest.mark.anyio
async def test_put_values_come_back_equal(storage: DurableObjectStorage, value: Any) -> None:
    await storage.put("k", value)
    assert await storage.get("k") == value


@pytest.mark.anyio
async def test_stored_values_are_copies_not_shared_objects(storage: DurableObjectStorage) -> None:
    value = {"items": [1]}
    await storage.put("k", value)
    value["items"].append(2)
    fetched = await storage.get("k")
    fetched["items"].append(3)
    assert await storage.get("k") == {"items": [1]}


@pytest.mark.anyio
async def test_batch_get_put_and_delete(storage: DurableObjectStorage) -> None:
    await storage.put({"b": 2, "a": 1, "c": 3})
    assert await storage.get("missing") is None
    assert await storage.get(["c", "missing", "a"]) == {"a": 1, "c": 3}
    assert await storage.delete("a") is True
    assert await storage.delete("a") is False
    assert await storage.delete(["b", "c", "missing"]) == 2
    assert await storage.list() == {}


@pytest.mark.parametrize(
    ("options", "keywords", "keys"),
    [
        (None, {}, ["a", "b1", "b2", "b3", "c"]),
        ({"prefix": "b"}, {}, ["b1", "b2", "b3"]),
        (None, {"prefix": "b", "limit": 2}, ["b1", "b2"]),
        (None, {"prefix": "b", "reverse": True, "limit": 2}, ["b3", "b2"]),
        (None, {"start": "b2"}, ["b2", "b3", "c"]),
        (None, {"startAfter": "b2"}, ["b3", "c"]),
        (None, {"end": "b2"}, ["a", "b1"]),
        (None, {"start": "b1", "end": "c"}, ["b1", "b2", "b3"]),
        ({"start": "b1", "limit": 1}, {"reverse": True}, ["c"]),
        ({"prefix": "x"}, {"prefix": "a"}, ["a"]),  # keywords win over the options dict
    ],
)
@pytest.mark.anyio
async def test_list_orders_by_key_and_honours_its_options(
    storage: DurableObjectStorage,
    options: dict[str, Any] | None,
    keywords: dict[str, Any],
    keys: list[str],
) -> None:
    await storage.put({key: key.upper() for key in ["c", "b2", "a", "b3", "b1"]})
    listed = await storage.list(options, **keywords)
    assert list(listed) == keys
    assert all(listed[key] == key.upper() for key in keys)


def oversized_key() -> str:
    return "k" * (limits.DO_MAX_KEY_BYTES + 1)


def many_keys() -> list[str]:
    return [f"k{n}" for n in range(limits.DO_MAX_BATCH_KEYS + 1)]


KEY_2049 = "Keys cannot be larger than 2048 bytes. (key length: 2049)"
KEY_2050 = "Keys cannot be larger than 2048 bytes. (key length: 2050)"
VALUE_2097154 = "Values cannot be larger than 2097152 bytes. A value of size 2097154 was provided."
BAD_ALARM = "setAlarm() needs epoch milliseconds or a datetime, got 'soon'."


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.get(oversized_key()), KEY_2049),
        (lambda s: s.put("é" * 1025, 1), KEY_2050),  # bytes count, not characters
        (lambda s: s.put("k", "x" * limits.DO_MAX_VALUE_BYTES), VALUE_2097154),
        (lambda s: s.get(many_keys()), limits.DO_TOO_MANY_KEYS),
        (lambda s: s.put(dict.fromkeys(many_keys(), 1)), limits.DO_TOO_MANY_KEYS),
        (lambda s: s.delete(many_keys()), limits.DO_TOO_MANY_KEYS),
        (lambda s: s.list(start="a", startAfter="b"), BOTH_STARTS),
        (lambda s: s.list(limit=0), BAD_LIMIT),
        (lambda s: s.put(7, "v"), "Storage keys must be strings, got int."),
        (lambda s: s.setAlarm("soon"), BAD_ALARM),
    ],
)
@pytest.mark.anyio
async def test_calls_beyond_cloudflares_limits_fail_with_its_messages(
    storage: DurableObjectStorage, call: Any, message: str
) -> None:
    with pytest.raises(BindingError) as error:
        await call(storage)
    assert str(error.value) == message


def cyclic() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"point": (1, 2)}, "<class 'tuple'> cannot be sent over RPC."),
        (bytearray(b"x"), "<class 'bytearray'> cannot be sent over RPC."),
        (cyclic(), "Values that contain themselves cannot be serialised here."),
    ],
)
@pytest.mark.anyio
async def test_values_follow_the_rpc_rules(
    storage: DurableObjectStorage, value: Any, message: str
) -> None:
    with pytest.raises(RpcError) as error:
        await storage.put("k", value)
    assert str(error.value) == message


@pytest.mark.anyio
async def test_writes_become_visible_to_other_readers_only_at_commit(
    storage: DurableObjectStorage, path: pathlib.Path
) -> None:
    await storage.put({"a": 1, "b": 2})
    storage.sql.exec("CREATE TABLE ev (n INTEGER)")
    assert committed_keys(path) == []
    storage.commit()
    assert committed_keys(path) == ["a", "b"]


@pytest.mark.anyio
async def test_sync_commits_pending_writes(
    storage: DurableObjectStorage, path: pathlib.Path
) -> None:
    await storage.put("a", 1)
    await storage.sync()
    assert committed_keys(path) == ["a"]


@pytest.mark.anyio
async def test_data_survives_closing_and_reopening_the_file(path: pathlib.Path) -> None:
    first = DurableObjectStorage(path)
    await first.put("count", 3)
    first.sql.exec("CREATE TABLE ev (msg TEXT); INSERT INTO ev VALUES ('kept')")
    await first.setAlarm(WHEN_MS)
    first.close()
    second = DurableObjectStorage(path)
    assert await second.get("count") == 3
    assert second.sql.exec("SELECT msg FROM ev").one() == {"msg": "kept"}
    assert await second.getAlarm() == WHEN_MS
    second.close()


@pytest.mark.anyio
async def test_transaction_sync_keeps_its_writes_or_none_of_them(
    storage: DurableObjectStorage,
) -> None:
    storage.sql.exec("CREATE TABLE ev (n INTEGER)")

    def write(n: int, fail: bool) -> int:
        storage.sql.exec("INSERT INTO ev VALUES (?)", n)
        if fail:
            raise ValueError("rolled back")
        return n

    assert storage.transactionSync(lambda: write(1, fail=False)) == 1
    with pytest.raises(ValueError, match="rolled back"):
        storage.transactionSync(lambda: write(2, fail=True))
    assert storage.sql.exec("SELECT n FROM ev").toArray() == [{"n": 1}]


@pytest.mark.anyio
async def test_transaction_sync_refuses_an_async_callback(storage: DurableObjectStorage) -> None:
    async def callback() -> None:
        await storage.put("k", 1)

    with pytest.raises(BindingError) as error:
        storage.transactionSync(callback)  # type: ignore[unused-coroutine]
    assert str(error.value) == SYNC_ONLY


@pytest.mark.anyio
async def test_async_transaction_rolls_back_on_error_or_on_request(
    storage: DurableObjectStorage,
) -> None:
    async def kept(txn: Any) -> str:
        await txn.put("kept", 1)
        return "done"

    async def abandoned(txn: Any) -> None:
        await txn.put("abandoned", 1)
        txn.rollback()

    async def failed(txn: Any) -> None:
        await txn.put("failed", 1)
        raise RuntimeError("no")

    assert await storage.transaction(kept) == "done"
    await storage.transaction(abandoned)
    with pytest.raises(RuntimeError):
        await storage.transaction(failed)
    assert list(await storage.list()) == ["kept"]


@pytest.mark.anyio
async def test_delete_all_erases_kv_and_sql_but_keeps_the_alarm(
    storage: DurableObjectStorage,
) -> None:
    await storage.put("k", 1)
    storage.sql.exec(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
        "CREATE TABLE child (parent INTEGER REFERENCES parent (id));"
        "INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1);"
        "CREATE VIEW children AS SELECT * FROM child;"
        "CREATE VIRTUAL TABLE docs USING fts5(body)"
    )
    await storage.setAlarm(WHEN_MS)
    await storage.deleteAll()
    storage.commit()
    assert await storage.list() == {}
    assert (
        storage.sql.exec("SELECT name FROM sqlite_master WHERE name NOT LIKE '_cf%'").toArray()
        == []
    )
    assert await storage.getAlarm() == WHEN_MS


@pytest.mark.parametrize(
    ("when", "stored"),
    [
        (WHEN_MS, WHEN_MS),
        (WHEN, WHEN_MS),
        (datetime(2026, 1, 1), WHEN_MS),
        (WHEN_MS + 0.9, WHEN_MS),
    ],
)
@pytest.mark.anyio
async def test_alarms_are_stored_in_epoch_milliseconds(
    path: pathlib.Path, when: int | float | datetime, stored: int
) -> None:
    armed: list[int | None] = []
    storage = DurableObjectStorage(path, on_alarm=armed.append)
    await storage.setAlarm(when)
    assert await storage.getAlarm() == stored
    await storage.deleteAlarm()
    assert await storage.getAlarm() is None
    assert armed == [stored, None]
    storage.close()
