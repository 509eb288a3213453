"""A thin, typed face on the Durable Object's synchronous SQL API (`ctx.storage.sql.exec`).

Durable Object SQL takes at most 100 bound parameters per statement, so bulk work binds a JSON
array and lets SQLite's `json_each` unpack it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Protocol

Row = dict[str, Any]


class Cursor(Protocol):
    def toArray(self) -> list[Row]: ...


class Sql(Protocol):
    def exec(self, query: str, *bindings: Any) -> Cursor: ...


class Db:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def rows(self, query: str, *params: Any) -> list[Row]:
        return self.sql.exec(query, *params).toArray()

    def one(self, query: str, *params: Any) -> Row | None:
        found = self.rows(query, *params)
        return found[0] if found else None

    def value(self, query: str, *params: Any) -> Any:
        row = self.one(query, *params)
        return None if row is None else next(iter(row.values()))

    def run(self, query: str, *params: Any) -> None:
        self.sql.exec(query, *params)

    def script(self, statements: Iterable[str]) -> None:
        for statement in statements:
            self.sql.exec(statement)

    def setting(self, name: str) -> Any:
        raw = self.value("SELECT value FROM settings WHERE name = ?", name)
        return None if raw is None else json.loads(raw)

    def put_setting(self, name: str, value: Any) -> None:
        self.run(
            "INSERT INTO settings (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            name,
            dumps(value),
        )


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None, default: Any = None) -> Any:
    return default if text is None else json.loads(text)
