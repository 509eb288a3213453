"""Which shards exist: one Durable Object listing every (bucket, slot) that ever got a row.

Reads then visit only shards that hold data, instead of every slot of every bucket in the
window (a 7-day window is 8 buckets x N slots, mostly empty for a sparse service or a trace).
Writers register a shard before acknowledging its first rows, so a shard is listed before
anyone can expect to read from it; each isolate remembers what it registered (`Registry`), so
the catalog sees one call per new shard per isolate, not one per batch.

Being the deployment's one strongly consistent object that every isolate can reach, it also
decides the scrubbing key when no secret is set (`scrub_key`, see `logs.redaction`).
"""

from __future__ import annotations

import json
from typing import Any

from logs.store.sqlapi import Sql

NAME = "catalog"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS shards (bucket INTEGER NOT NULL, slot INTEGER NOT NULL,"
    " PRIMARY KEY (bucket, slot)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
    " WITHOUT ROWID",
)


class CatalogCore:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        for statement in _SCHEMA:
            sql.exec(statement)

    def register(self, pairs: list[list[int]]) -> int:
        self.sql.exec(
            "INSERT OR IGNORE INTO shards (bucket, slot) SELECT value->>0, value->>1"
            " FROM json_each(?)",
            json.dumps(pairs),
        )
        return len(pairs)

    def existing(self, first: int, last: int) -> list[list[int]]:
        """`[bucket, slot]` of the shards with buckets in [first, last], newest first."""
        rows = self.sql.exec(
            "SELECT bucket, slot FROM shards WHERE bucket >= ? AND bucket <= ?"
            " ORDER BY bucket DESC, slot DESC",
            first,
            last,
        ).toArray()
        return [[row["bucket"], row["slot"]] for row in rows]

    def forget(self, pairs: list[list[int]]) -> int:
        self.sql.exec(
            "DELETE FROM shards WHERE (bucket, slot) IN"
            " (SELECT value->>0, value->>1 FROM json_each(?))",
            json.dumps(pairs),
        )
        return len(pairs)

    def scrub_key(self, candidate: str) -> str:
        """The deployment's scrubbing key: the first candidate ever offered, for everyone."""
        self.sql.exec(
            "INSERT OR IGNORE INTO settings (name, value) VALUES ('scrub-key', ?)", candidate
        )
        row = self.sql.exec("SELECT value FROM settings WHERE name = 'scrub-key'").one()
        return str(row["value"])


class Registry:
    """What this isolate already registered, per catalog binding."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[Any, set[tuple[int, int]]]] = {}

    def unknown(self, namespace: Any, pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
        entry = self._known.get(id(namespace))
        if entry is None or entry[0] is not namespace:
            entry = self._known[id(namespace)] = (namespace, set())
        return pairs - entry[1]

    def remember(self, namespace: Any, pairs: set[tuple[int, int]]) -> None:
        self.unknown(namespace, set())
        self._known[id(namespace)][1].update(pairs)


registry = Registry()
