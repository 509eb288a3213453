"""The slice of a Durable Object's `ctx.storage.sql` the shard uses (for type checking)."""

from __future__ import annotations

from typing import Any, Protocol


class Cursor(Protocol):
    def toArray(self) -> list[dict[str, Any]]: ...

    def one(self) -> dict[str, Any]: ...


class Sql(Protocol):
    def exec(self, query: str, *bindings: Any) -> Cursor: ...
