"""One LogShard's logic over its SQLite database: insert, search, trace, stats, archive steps.

The Durable Object class (entry.py) only delegates here, so all of this runs in tests against
the local runtime's SQL API without HTTP. Rows arrive as JSON chunks (see `logs.rows`) and are
inserted with one statement per chunk (`json_each`), FTS5 index and stats included, in the
single event of the RPC call: a chunk is stored whole or not at all.
"""

from __future__ import annotations

import json
from typing import Any

from logs.store import schema
from logs.store.schema import COLUMNS, ID_SCALE, trace_match
from logs.store.searchsql import DOCUMENT, search_sql
from logs.store.sqlapi import Sql

# Statements built from constants only (S608 cannot tell); every value is a bound parameter.
# A chunk row is [ts, level, service, trace_id, span_id, fingerprint, message, attributes]
# (`rows.chunks`); received, source and edge are the chunk's (?3, ?4, ?5).
_NEW_ID = f"(r.value->>0) * {ID_SCALE} + ((?2 + r.key) % {ID_SCALE})"
_FIELDS = (
    "r.value->>0, ?3, r.value->>1, r.value->>2, r.value->>3, r.value->>4, r.value->>5,"
    " r.value->>6, r.value->>7, ?4, ?5"
)
# Rows go in id order: FTS5 flushes its pending terms whenever a rowid goes backwards.
_INSERT = (
    f"INSERT INTO logs ({COLUMNS}) SELECT {_NEW_ID}, {_FIELDS} FROM json_each(?1) AS r ORDER BY 1"  # noqa: S608
)
_CLASHES = f"SELECT count(*) AS n FROM json_each(?1) AS r JOIN logs AS l ON l.id = {_NEW_ID}"  # noqa: S608
_INSERT_ONE = (
    f"INSERT INTO logs ({COLUMNS}) SELECT coalesce((SELECT max(id) + 1 FROM logs "  # noqa: S608
    f"WHERE id >= ?1 AND id < ?1 + {ID_SCALE}), ?1), " + ", ".join(["?"] * 11)
)
# A trace's rows by the full-text index (see `schema`); the equality keeps the answer exact.
_OF_TRACE = "l.id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?) AND l.trace_id = ?"
_TRACE = f"SELECT {COLUMNS} FROM logs AS l WHERE {_OF_TRACE} ORDER BY l.id LIMIT ?"  # noqa: S608
_TRACE_DOCUMENTS = (
    f"SELECT l.id, {DOCUMENT} AS doc FROM logs AS l WHERE {_OF_TRACE} ORDER BY l.id LIMIT ?"  # noqa: S608
)
_STATS = (
    "INSERT INTO stats (minute, level, service, count) "
    "SELECT r.value->>0, r.value->>1, r.value->>2, r.value->>3 FROM json_each(?1) AS r "
    "WHERE true ON CONFLICT (minute, level, service) DO UPDATE SET count = count + excluded.count"
)
_LATE = (
    "INSERT OR IGNORE INTO late (hour) SELECT DISTINCT (r.value->>0) / 3600000"
    " FROM json_each(?1) AS r WHERE (r.value->>0) < ?2"
)


class ShardCore:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        schema.create(sql)
        self._seq = self._meta("seq")

    # --- writing --------------------------------------------------------------------------
    def insert(self, batch: dict[str, Any]) -> int:
        """Store a batch: `chunks` (`rows.chunks`), `stats` (`[minute, level, service,
        count]` rows, counted by the Worker, as a JSON text or a list) and `first_ms` (its
        oldest timestamp)."""
        archived_to = self._meta("archived_to")
        stored = 0
        for chunk in batch["chunks"]:
            if batch["first_ms"] < archived_to:  # rows for hours already archived
                self.sql.exec(_LATE, chunk["rows"], archived_to)
            stored += self._insert_chunk(chunk)
        stats = batch["stats"]
        self.sql.exec(_STATS, stats if isinstance(stats, str) else json.dumps(stats))
        self._set_meta("seq", self._seq)
        return stored

    def _insert_chunk(self, chunk: dict[str, Any]) -> int:
        shared = (chunk["received"], chunk["source"], chunk["edge"])
        try:
            # Computed ids clash only after the counter wrapped, or around a backfill's ids:
            # try the one statement, and look for clashes only when it fails (a failed
            # statement leaves nothing behind, FTS5 included).
            self.sql.exec(_INSERT, chunk["rows"], self._seq, *shared)
        except Exception:
            if not self.sql.exec(_CLASHES, chunk["rows"], self._seq).one()["n"]:
                raise
            count = self._insert_one_by_one(chunk["rows"], shared)
        else:
            count = self.sql.exec("SELECT changes() AS n").one()["n"]
        self._seq = (self._seq + count) % ID_SCALE
        return int(count)

    def _insert_one_by_one(self, rows_json: str, shared: tuple[int, str, str]) -> int:
        """Slow path when computed ids would clash (backfills): next free id of each ms."""
        received, source, edge = shared
        rows = self.sql.exec("SELECT value FROM json_each(?)", rows_json).toArray()
        for row in rows:
            ts, level, service, trace, span, fingerprint, message, attributes = json.loads(
                row["value"]
            )
            values = [ts, received, level, service, trace, span, fingerprint, message]
            self.sql.exec(_INSERT_ONE, ts * ID_SCALE, *values, attributes, source, edge)
        return len(rows)

    # --- reading --------------------------------------------------------------------------
    # Reads answer one JSON string: an RPC copies a string in one step, where a list of rows
    # would be copied value by value (measured: most of a query's time).
    def search(self, spec: dict[str, Any]) -> str:
        """Rows matching `spec` (see `searchsql`), newest first (or oldest first for tails),
        as a JSON array of rows in `schema.COLUMNS` order; with `slot` in the spec, as
        `documents` lines."""
        query, params = search_sql(spec)
        rows = self.sql.exec(query, *params).toArray()
        return _documents(rows) if spec.get("slot") is not None else _rows_json(rows)

    def trace(self, trace_id: str, limit: int, slot: int | None = None) -> str:
        """The records of a trace, oldest first: rows, or with `slot`, `documents` lines."""
        if slot is None:
            return _rows_json(
                self.sql.exec(_TRACE, trace_match(trace_id), trace_id, limit).toArray()
            )
        rows = self.sql.exec(
            _TRACE_DOCUMENTS, slot, trace_match(trace_id), trace_id, limit
        ).toArray()
        return _documents(rows)

    def stats(self, since_ms: int, until_ms: int) -> list[list[Any]]:
        """`[minute, level, service, count]` for the minutes in `[since, until)`."""
        query = (
            "SELECT minute, level, service, count FROM stats "
            "WHERE minute >= ? AND minute < ? ORDER BY minute"
        )
        rows = self.sql.exec(query, since_ms // 60000, -(-until_ms // 60000)).toArray()
        return [[r["minute"], r["level"], r["service"], r["count"]] for r in rows]

    def size(self) -> dict[str, int]:
        count = self.sql.exec("SELECT count(*) AS n FROM logs").one()["n"]
        return {"records": int(count)}

    # --- meta -----------------------------------------------------------------------------
    def _meta(self, key: str) -> int:
        rows = self.sql.exec("SELECT value FROM meta WHERE key = ?", key).toArray()
        return int(rows[0]["value"]) if rows else 0

    def _set_meta(self, key: str, value: int) -> None:
        self.sql.exec(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            key,
            value,
        )


def _rows_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps([list(row.values()) for row in rows], ensure_ascii=False)


def _documents(rows: list[dict[str, Any]]) -> str:
    """`<row id> <document>` lines: a document is JSON from SQLite's `json_object`, which
    never holds a raw newline (JSON escapes control characters in strings)."""
    return "\n".join(f"{row['id']} {row['doc']}" for row in rows)


def documents(reply: str) -> list[tuple[int, str]]:
    """`(row id, document)` of a `_documents` reply."""
    if not reply:
        return []
    pairs = (line.split(" ", 1) for line in reply.split("\n"))
    return [(int(row_id), doc) for row_id, doc in pairs]
