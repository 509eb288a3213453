"""`ctx.storage.sql`: synchronous exec, cursors, FTS5, and Cloudflare's limits and authorizer."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from localedge import limits
from localedge.errors import BindingError
from localedge.sql import (
    MULTIPLE_RESULTS,
    NO_RESULTS,
    NO_STATEMENT,
    ONLY_LAST_HAS_PARAMS,
    TRANSACTION_FORBIDDEN,
    WRONG_BINDINGS,
    SqlStorage,
)

FORBIDDEN = limits.DO_SQL_FORBIDDEN  # "not authorized: SQLITE_AUTH"


@pytest.fixture
def sql() -> Iterator[SqlStorage]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    storage = SqlStorage(conn)
    storage.internal("CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB)")
    storage.exec("CREATE TABLE ev (id INTEGER PRIMARY KEY, ts INTEGER, msg TEXT, raw BLOB)")
    yield storage
    conn.close()


def insert_events(sql: SqlStorage, count: int) -> None:
    for n in range(1, count + 1):
        sql.exec("INSERT INTO ev (ts, msg) VALUES (?, ?)", n * 10, f"event {n}")


def test_exec_returns_rows_as_dicts_with_column_names_and_counts(sql: SqlStorage) -> None:
    insert = sql.exec("INSERT INTO ev (ts, msg) VALUES (?, ?), (?, ?)", 10, "a", 20, "b")
    assert insert.rowsWritten == 2
    cursor = sql.exec("SELECT id, msg FROM ev ORDER BY id")
    assert cursor.columnNames == ["id", "msg"]
    assert cursor.toArray() == [{"id": 1, "msg": "a"}, {"id": 2, "msg": "b"}]
    assert cursor.rowsRead == 2
    assert cursor.rowsWritten == 0


def test_a_cursor_is_consumed_once_whichever_way_it_is_read(sql: SqlStorage) -> None:
    insert_events(sql, 3)
    cursor = sql.exec("SELECT ts FROM ev ORDER BY ts")
    assert cursor.next() == {"done": False, "value": {"ts": 10}}
    assert list(cursor.raw()) == [[20], [30]]
    assert cursor.next() == {"done": True}
    assert cursor.toArray() == []
    assert [row["ts"] for row in sql.exec("SELECT ts FROM ev ORDER BY ts")] == [10, 20, 30]


def test_raw_keeps_columns_that_share_a_name(sql: SqlStorage) -> None:
    assert list(sql.exec("SELECT 1 AS x, 2 AS x").raw()) == [[1, 2]]


def test_one_returns_the_single_row(sql: SqlStorage) -> None:
    insert_events(sql, 3)
    assert sql.exec("SELECT count(*) AS n FROM ev").one() == {"n": 3}


@pytest.mark.parametrize(
    ("query", "message"),
    [("SELECT * FROM ev WHERE ts > 100", NO_RESULTS), ("SELECT * FROM ev", MULTIPLE_RESULTS)],
)
def test_one_fails_unless_there_is_exactly_one_row(
    sql: SqlStorage, query: str, message: str
) -> None:
    insert_events(sql, 2)
    with pytest.raises(BindingError) as error:
        sql.exec(query).one()
    assert str(error.value) == message


def test_several_statements_run_in_order_and_the_cursor_is_the_last_ones(sql: SqlStorage) -> None:
    cursor = sql.exec(
        """
        CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT);
        CREATE TRIGGER stamp AFTER INSERT ON t BEGIN UPDATE t SET b = 'x;y' WHERE a = new.a; END;
        INSERT INTO t (a) VALUES (1); -- a comment; with a semicolon
        SELECT a, b FROM t WHERE a = ?;
        """,
        1,
    )
    assert cursor.toArray() == [{"a": 1, "b": "x;y"}]


def test_blobs_go_in_as_bytes_or_memoryview_and_come_back_as_bytes(sql: SqlStorage) -> None:
    sql.exec("INSERT INTO ev (raw) VALUES (?), (?)", b"\x00\x01", memoryview(b"\x02"))
    assert [row["raw"] for row in sql.exec("SELECT raw FROM ev ORDER BY id")] == [
        b"\x00\x01",
        b"\x02",
    ]


def test_fts5_full_text_search_ranks_matches_by_bm25(sql: SqlStorage) -> None:
    sql.exec("CREATE VIRTUAL TABLE docs USING fts5(service, body, tokenize = 'porter')")
    for service, body in [
        ("api", "timeout talking to the database"),
        ("web", "database database database timeout storm"),
        ("web", "all requests served"),
    ]:
        sql.exec("INSERT INTO docs (service, body) VALUES (?, ?)", service, body)
    rows = sql.exec(
        "SELECT service, highlight(docs, 1, '[', ']') AS hit, bm25(docs) < 0 AS scored "
        "FROM docs WHERE docs MATCH ? ORDER BY bm25(docs)",
        "databases",  # porter stemming: matches "database"
    ).toArray()
    assert rows == [
        {"service": "web", "hit": "[database] [database] [database] timeout storm", "scored": 1},
        {"service": "api", "hit": "timeout talking to the [database]", "scored": 1},
    ]


def test_a_hundred_bound_parameters_are_allowed(sql: SqlStorage) -> None:
    placeholders = ", ".join(["?"] * limits.DO_MAX_SQL_PARAMS)
    row = sql.exec(f"SELECT {placeholders}", *range(limits.DO_MAX_SQL_PARAMS)).raw()
    assert next(row) == list(range(limits.DO_MAX_SQL_PARAMS))


def oversized_statement() -> str:
    return "SELECT '" + "x" * limits.DO_MAX_SQL_STATEMENT_BYTES + "'"


@pytest.mark.parametrize(
    ("query", "bindings", "message"),
    [
        ("SELECT " + ", ".join(["?"] * 101), tuple(range(101)), limits.DO_SQL_TOO_MANY_PARAMS),
        ("SELECT ?, ?", (1,), WRONG_BINDINGS),
        ("SELECT ?; SELECT 2", (1,), ONLY_LAST_HAS_PARAMS),
        (oversized_statement(), (), limits.DO_SQL_STATEMENT_TOO_LONG),
        ("SELECT ?", ("x" * (limits.DO_MAX_VALUE_BYTES + 1),), limits.DO_SQL_TOO_BIG),
        ("SELECT zeroblob(?)", (limits.DO_MAX_VALUE_BYTES + 1,), limits.DO_SQL_TOO_BIG),
        ("  -- only a comment", (), NO_STATEMENT),
        ("SELECT nope FROM missing", (), "no such table: missing: SQLITE_ERROR"),
        ("SELECT ?", (True,), "SQL bindings must be None, int, float, str or bytes, got bool."),
    ],
)
def test_statements_beyond_cloudflares_limits_fail_with_its_messages(
    sql: SqlStorage, query: str, bindings: tuple[object, ...], message: str
) -> None:
    with pytest.raises(BindingError) as error:
        sql.exec(query, *bindings)
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("ATTACH DATABASE 'other.sqlite' AS other", FORBIDDEN),
        ("DETACH DATABASE other", FORBIDDEN),
        ("PRAGMA journal_mode = DELETE", FORBIDDEN),
        ("PRAGMA synchronous = OFF", FORBIDDEN),
        ("PRAGMA foreign_keys = maybe", FORBIDDEN),
        ("PRAGMA table_info(_cf_KV)", FORBIDDEN),
        ("CREATE TEMP TABLE scratch (x)", FORBIDDEN),
        ("CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1)", FORBIDDEN),
        ("INSERT INTO _cf_KV VALUES ('k', 'v')", FORBIDDEN),
        ("DROP TABLE _cf_KV", FORBIDDEN),
        ("SELECT * FROM _cf_KV", "access to _cf_KV.key is prohibited: SQLITE_AUTH"),
        ("SELECT sqlite_version()", "not authorized to use function: sqlite_version: SQLITE_ERROR"),
        ("BEGIN TRANSACTION", TRANSACTION_FORBIDDEN),
        ("COMMIT", TRANSACTION_FORBIDDEN),
        ("ROLLBACK", TRANSACTION_FORBIDDEN),
        ("SAVEPOINT sp", TRANSACTION_FORBIDDEN),
        ("RELEASE sp", TRANSACTION_FORBIDDEN),
    ],
)
def test_statements_cloudflare_forbids_are_refused(
    sql: SqlStorage, query: str, message: str
) -> None:
    with pytest.raises(BindingError) as error:
        sql.exec(query)
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("query", "first_row"),
    [
        (
            "PRAGMA table_info(ev)",
            {"cid": 0, "name": "id", "type": "INTEGER", "notnull": 0, "dflt_value": None, "pk": 1},
        ),
        ("PRAGMA index_list(ev)", None),
        ("PRAGMA foreign_key_list(ev)", None),
        ("PRAGMA foreign_keys", {"foreign_keys": 0}),
        ("PRAGMA defer_foreign_keys = on", None),
        ("SELECT name FROM pragma_table_list WHERE name = 'ev'", {"name": "ev"}),
        (
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3) "
            "SELECT sum(x) AS total FROM n",
            {"total": 6},
        ),
        ("SELECT json_extract(?, '$.a') AS a", {"a": 1}),
    ],
)
def test_read_only_pragmas_and_ordinary_sql_are_allowed(
    sql: SqlStorage, query: str, first_row: dict[str, object] | None
) -> None:
    rows = sql.exec(query, '{"a": 1}') if "?" in query else sql.exec(query)
    assert next(rows, None) == first_row


def test_schema_changes_and_indexes_are_allowed(sql: SqlStorage) -> None:
    sql.exec("ALTER TABLE ev ADD COLUMN level TEXT")
    sql.exec("CREATE INDEX ev_ts ON ev (ts)")
    assert sql.exec("PRAGMA index_list(ev)").one()["name"] == "ev_ts"


def test_database_size_is_a_whole_number_of_pages(sql: SqlStorage) -> None:
    page_size = sql.internal("PRAGMA page_size").fetchone()[0]
    assert sql.databaseSize > 0
    assert sql.databaseSize % page_size == 0
