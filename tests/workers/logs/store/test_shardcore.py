"""One shard over a real Durable Object SQLite file: inserts, searches and their query plans."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localedge.storage import DurableObjectStorage
from logs.rows import shard_batch, to_json
from logs.store.schema import ID_SCALE
from logs.store.searchsql import search_sql
from logs.store.shardcore import ShardCore, documents

T = 1_795_773_600_000
TRACE = "5b8efff798038103d269b633813fc60c"


def _rows(reply: str) -> list[list[Any]]:
    return list(json.loads(reply))


def row(
    ts: int,
    level: int = 2,
    service: str = "api",
    message: str = "hello",
    trace: str | None = None,
    attributes: dict[str, Any] | None = None,
) -> list[Any]:
    attrs = json.dumps(attributes) if attributes else None
    return [ts, T, level, service, trace, None, "f" * 16, message, attrs, "http", "local"]


def spec(**fields: Any) -> dict[str, Any]:
    return {"lo": 0, "hi": (T + 10**7) * ID_SCALE, "limit": 100, **fields}


def messages(rows: list[list[Any]]) -> list[str]:
    return [r[8] for r in rows]


@pytest.fixture
def core(storage: DurableObjectStorage) -> ShardCore:
    shard = ShardCore(storage.sql)
    shard.insert(
        shard_batch(
            [
                row(T + 1, 2, "api", "GET /pitches ok"),
                row(
                    T + 2,
                    5,
                    "api",
                    "payment declined for order 7",
                    TRACE,
                    {"http": {"status": 402}},
                ),
                row(T + 3, 4, "web", "slow render", None, {"route": "/home", "ok": True}),
                row(T + 4, 7, "billing", "ledger corrupted", TRACE),
                row(T + 5, 1, "api", "cache miss for pitch 7"),
            ]
        )
    )
    return shard


def test_rows_come_back_newest_first_with_time_ordered_ids(core: ShardCore) -> None:
    rows = _rows(core.search(spec()))
    assert messages(rows) == [
        "cache miss for pitch 7",
        "ledger corrupted",
        "slow render",
        "payment declined for order 7",
        "GET /pitches ok",
    ]
    assert [r[0] // ID_SCALE for r in rows] == [T + 5, T + 4, T + 3, T + 2, T + 1]
    assert messages(_rows(core.search(spec(ascending=True, limit=2)))) == [
        "GET /pitches ok",
        "payment declined for order 7",
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"min_level": 5}, ["ledger corrupted", "payment declined for order 7"]),
        ({"min_level": 4}, ["ledger corrupted", "slow render", "payment declined for order 7"]),
        ({"services": ["web", "billing"]}, ["ledger corrupted", "slow render"]),
        ({"trace_id": TRACE}, ["ledger corrupted", "payment declined for order 7"]),
        ({"match": '"declined"'}, ["payment declined for order 7"]),
        ({"match": '"pitch"*'}, ["cache miss for pitch 7", "GET /pitches ok"]),
        ({"match": '"402"'}, []),  # full text covers messages; attributes have attr.<key>
        ({"attrs": [["http.status", ["402"]]]}, ["payment declined for order 7"]),
        ({"attrs": [["route", ["/home"]], ["ok", ["true", "1"]]]}, ["slow render"]),
        (
            {"lo": (T + 2) * ID_SCALE, "hi": (T + 4) * ID_SCALE},
            ["slow render", "payment declined for order 7"],
        ),
        ({"match": '"7"', "min_level": 5}, ["payment declined for order 7"]),
    ],
)
def test_filters(core: ShardCore, fields: dict[str, Any], expected: list[str]) -> None:
    assert messages(_rows(core.search(spec(**fields)))) == expected


def test_a_trace_comes_back_oldest_first(core: ShardCore) -> None:
    assert messages(_rows(core.trace(TRACE, 10))) == [
        "payment declined for order 7",
        "ledger corrupted",
    ]


def test_stats_count_per_minute_level_and_service(core: ShardCore) -> None:
    minute = T // 60000
    assert sorted(core.stats(T, T + 60000)) == [
        [minute, 1, "api", 1],
        [minute, 2, "api", 1],
        [minute, 4, "web", 1],
        [minute, 5, "api", 1],
        [minute, 7, "billing", 1],
    ]


def test_clashing_ids_after_the_counter_wrapped_take_the_next_free_id(
    storage: DurableObjectStorage,
) -> None:
    ShardCore(storage.sql).insert(shard_batch([row(T, message="first")]))
    storage.sql.exec("UPDATE meta SET value = 0 WHERE key = 'seq'")  # as after 2**20 rows
    reopened = ShardCore(storage.sql)
    assert reopened.insert(shard_batch([row(T, message="second"), row(T, message="third")])) == 2
    rows = _rows(reopened.search(spec()))
    assert messages(rows) == ["third", "second", "first"]
    assert [r[0] - T * ID_SCALE for r in rows] == [2, 1, 0]


@pytest.mark.parametrize(
    ("fields", "index"),
    [
        ({"min_level": 5}, "logs_error"),
        ({"min_level": 6}, "logs_error"),
        ({"min_level": 4}, "logs_warning"),
        ({"trace_id": TRACE}, "VIRTUAL TABLE INDEX"),  # trace ids are in the full-text index
    ],
)
def test_common_filters_use_their_partial_index(
    storage: DurableObjectStorage, fields: dict[str, Any], index: str
) -> None:
    ShardCore(storage.sql)
    query, params = search_sql(spec(**fields))
    plan = " ".join(
        r["detail"] for r in storage.sql.exec("EXPLAIN QUERY PLAN " + query, *params).toArray()
    )
    assert index in plan and "TEMP B-TREE" not in plan


def test_full_text_pages_walk_the_index_newest_first_without_sorting(
    storage: DurableObjectStorage,
) -> None:
    ShardCore(storage.sql)
    query, params = search_sql(spec(match='"declined"'))
    plan = " ".join(
        r["detail"] for r in storage.sql.exec("EXPLAIN QUERY PLAN " + query, *params).toArray()
    )
    assert "VIRTUAL TABLE INDEX" in plan and "TEMP B-TREE" not in plan


def test_documents_are_the_records_the_api_answers(storage: DurableObjectStorage) -> None:
    shard = ShardCore(storage.sql)
    rows = [
        row(T, 0, "api", "plain"),
        row(T + 999, 7, "bïlling", 'quote " back\\slash\nnew line\ttab \u2028 \U0001f600', TRACE),
        row(T + 1000, 4, "web", "attrs", None, {"a": [1, 2.5, None, True], "é": {"b": "c"}}),
        row(T + 3599_999, 5, "later", "the last ms of the hour"),
        row(86400_000 * 365, 2, "early", "1971"),
    ]
    shard.insert(shard_batch(rows))
    expected = [to_json(stored, 3) for stored in _rows(shard.search(spec(hi=2**63 - 1)))]
    found = documents(shard.search(spec(hi=2**63 - 1, slot=3)))
    assert [json.loads(doc) for _, doc in found] == expected
    assert [row_id for row_id, _ in found] == [int(record["id"][:16], 16) for record in expected]
    traced = documents(shard.trace(TRACE, 10, 3))
    assert [json.loads(doc) for _, doc in traced] == [r for r in expected if r["trace_id"]]
    assert documents(shard.search(spec(trace_id="0" * 31 + "1", slot=3))) == []


@pytest.mark.parametrize(
    "fields", [{"min_level": 5}, {"min_level": 4}, {"min_level": 2}, {"match": '"m"'}, {}]
)
def test_a_repeated_search_is_not_prepared_again(
    storage: DurableObjectStorage, fields: dict[str, Any]
) -> None:
    """A bound parameter that SQLite compares with a partial index's WHERE makes it prepare
    the statement again at every run (the authorizer runs at every prepare)."""
    shard = ShardCore(storage.sql)
    shard.insert(shard_batch([row(T + i, 5, message=f"m {i}") for i in range(3)]))
    policy = storage.sql._policy
    prepared: list[int] = []

    def counting(*args: Any) -> int:
        prepared.append(1)
        return int(policy(*args))

    storage.sql._conn.set_authorizer(counting)
    try:
        for slot in (1, 2, None):
            shard.search(spec(**fields, slot=slot))  # prepared once
            prepared.clear()
            shard.search(spec(**fields, slot=slot, lo=1, limit=7))
            assert prepared == []
    finally:
        storage.sql._conn.set_authorizer(policy)


def test_words_match_messages_and_never_trace_ids(storage: DurableObjectStorage) -> None:
    shard = ShardCore(storage.sql)
    shard.insert(shard_batch([row(T, message="retry", trace=TRACE), row(T + 1, message=TRACE)]))
    assert messages(_rows(shard.search(spec(match=f'"{TRACE}"')))) == [TRACE]
    assert messages(_rows(shard.search(spec(trace_id=TRACE)))) == ["retry"]
    assert messages(_rows(shard.search(spec(match='"retry"', trace_id=TRACE)))) == ["retry"]
    assert messages(_rows(shard.trace(TRACE, 10))) == ["retry"]


OLD_SCHEMA = (  # schema 1: trace ids in a B-tree index, messages alone in the full-text index
    "CREATE INDEX logs_trace ON logs (trace_id, id) WHERE trace_id IS NOT NULL",
    "DROP TRIGGER logs_fts_insert",
    "DROP TRIGGER logs_fts_delete",
    "DROP TABLE logs_fts",
    "CREATE VIRTUAL TABLE logs_fts USING fts5 (message, content = 'logs', content_rowid = 'id',"
    " tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE TRIGGER logs_fts_insert AFTER INSERT ON logs BEGIN"
    " INSERT INTO logs_fts (rowid, message) VALUES (new.id, new.message); END",
    "CREATE TRIGGER logs_fts_delete AFTER DELETE ON logs BEGIN INSERT INTO logs_fts"
    " (logs_fts, rowid, message) VALUES ('delete', old.id, old.message); END",
)


def test_a_shard_of_the_old_schema_is_rebuilt_once_with_its_records(
    storage: DurableObjectStorage,
) -> None:
    old = ShardCore(storage.sql)
    for statement in OLD_SCHEMA:
        storage.sql.exec(statement)
    old.insert(shard_batch([row(T, message="payment declined", trace=TRACE), row(T + 1)]))
    assert storage.sql.exec("SELECT count(*) AS n FROM logs_fts_idx").one()["n"] > 0
    upgraded = ShardCore(storage.sql)  # as after a deploy: the next instance migrates
    indexes = storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'index'").toArray()
    assert "logs_trace" not in {r["name"] for r in indexes}
    assert messages(_rows(upgraded.trace(TRACE, 10))) == ["payment declined"]
    assert messages(_rows(upgraded.search(spec(match='"declined"')))) == ["payment declined"]
    upgraded.insert(shard_batch([row(T + 2, message="declined again", trace=TRACE)]))
    assert messages(_rows(upgraded.trace(TRACE, 10))) == ["payment declined", "declined again"]
