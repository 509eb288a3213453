"""Small helpers over a Durable Object's synchronous SQL API (`ctx.storage.sql`)."""

from __future__ import annotations

import base64
import json
from typing import Any

from obs_schema.errors import BadRequest


class Documents:
    """A JSON document per key in a table `docs(k, v)`: a Durable Object's own settings."""

    def __init__(self, sql: Any) -> None:
        self.sql = sql
        sql.exec("CREATE TABLE IF NOT EXISTS docs (k TEXT PRIMARY KEY, v TEXT NOT NULL)")

    def get(self, key: str) -> Any:
        rows = self.sql.exec("SELECT v FROM docs WHERE k = ?", key).toArray()
        return json.loads(rows[0]["v"]) if rows else None

    def put(self, key: str, value: Any) -> None:
        self.sql.exec("INSERT OR REPLACE INTO docs (k, v) VALUES (?, ?)", key, json.dumps(value))

    def delete(self, key: str) -> None:
        self.sql.exec("DELETE FROM docs WHERE k = ?", key)


def encode_cursor(position: dict[str, Any]) -> str:
    """An opaque pagination cursor (DESIGN §6)."""
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except ValueError:
        raise BadRequest("invalid cursor: pass back the cursor of a previous page") from None
    if not isinstance(position, dict):
        raise BadRequest("invalid cursor: pass back the cursor of a previous page")
    return position
