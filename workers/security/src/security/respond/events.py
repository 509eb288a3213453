"""Security events of one shard: stored in its SQLite, queried by type, source and time.

Shards hold the events of the sources that hash to them, so a query for one IP reads one
shard and a query for all reads every shard and merges (see `paging`). Events older than
the retention are dropped by the shard's alarm.
"""

from __future__ import annotations

import itertools
import json
import secrets
from dataclasses import dataclass
from typing import Any

RETENTION_MS = 7 * 24 * 3600 * 1000
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, time_ms INTEGER NOT NULL, "
    "type TEXT NOT NULL, ip TEXT NOT NULL, user_id TEXT, route TEXT, score REAL NOT NULL, "
    "action TEXT NOT NULL, evidence TEXT NOT NULL, incident TEXT)",
    "CREATE INDEX IF NOT EXISTS events_time ON events (time_ms, id)",
    "CREATE INDEX IF NOT EXISTS events_ip ON events (ip, time_ms)",
    "CREATE INDEX IF NOT EXISTS events_type ON events (type, time_ms)",
)


@dataclass(frozen=True, slots=True)
class EventQuery:
    type: str | None = None
    ip: str | None = None
    user_id: str | None = None
    since_ms: int = 0
    until_ms: int = 2**62
    before: tuple[int, str] | None = None  # keyset cursor: (time_ms, id) of the last row seen
    limit: int = 100


_sequence = itertools.count()


def new_id(now_ms: int) -> str:
    """Sortable by time (13 hex digits of ms), then creation order; unique by a random tail."""
    return f"{now_ms:013x}{next(_sequence) % 0x10000:04x}{secrets.token_hex(2)}"


class EventStore:
    def __init__(self, sql: Any) -> None:
        self.sql = sql
        for statement in SCHEMA:
            sql.exec(statement)

    def add(self, event: dict[str, Any], now_ms: int, incident: str | None) -> dict[str, Any]:
        stored = {
            "id": new_id(now_ms),
            "time_ms": int(event.get("time_ms") or now_ms),
            "type": str(event["type"]),
            "ip": str(event["ip"]),
            "user_id": event.get("user_id"),
            "route": event.get("route"),
            "score": float(event.get("score", 0)),
            "action": str(event.get("action", "allow")),
            "evidence": event.get("evidence") or {},
            "incident": incident,
        }
        self.sql.exec(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            stored["id"],
            stored["time_ms"],
            stored["type"],
            stored["ip"],
            stored["user_id"],
            stored["route"],
            stored["score"],
            stored["action"],
            json.dumps(stored["evidence"], separators=(",", ":")),
            incident,
        )
        return stored

    def query(self, q: EventQuery) -> list[dict[str, Any]]:
        where, params = ["time_ms >= ?", "time_ms < ?"], list[Any]([q.since_ms, q.until_ms])
        for column, value in (("type", q.type), ("ip", q.ip), ("user_id", q.user_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if q.before is not None:
            where.append("(time_ms < ? OR (time_ms = ? AND id < ?))")
            params.extend([q.before[0], q.before[0], q.before[1]])
        rows = self.sql.exec(
            f"SELECT * FROM events WHERE {' AND '.join(where)} "  # noqa: S608 - fixed columns
            "ORDER BY time_ms DESC, id DESC LIMIT ?",
            *params,
            q.limit,
        ).toArray()
        return [_row(r) for r in rows]

    def counts_since(self, since_ms: int) -> dict[str, int]:
        rows = self.sql.exec(
            "SELECT type, count(*) AS n FROM events WHERE time_ms >= ? GROUP BY type", since_ms
        ).toArray()
        return {str(r["type"]): int(r["n"]) for r in rows}

    def top_sources(self, since_ms: int, limit: int) -> list[dict[str, Any]]:
        rows = self.sql.exec(
            "SELECT ip, sum(score) AS score, count(*) AS events FROM events WHERE time_ms >= ? "
            "GROUP BY ip ORDER BY score DESC LIMIT ?",
            since_ms,
            limit,
        ).toArray()
        return [
            {"ip": r["ip"], "score": float(r["score"]), "events": int(r["events"])} for r in rows
        ]

    def top_routes(self, since_ms: int, limit: int) -> list[dict[str, Any]]:
        rows = self.sql.exec(
            "SELECT route, sum(score) AS score, count(*) AS events FROM events "
            "WHERE time_ms >= ? AND route IS NOT NULL GROUP BY route ORDER BY score DESC LIMIT ?",
            since_ms,
            limit,
        ).toArray()
        return [
            {"route": r["route"], "score": float(r["score"]), "events": int(r["events"])}
            for r in rows
        ]

    def prune(self, now_ms: int) -> None:
        self.sql.exec("DELETE FROM events WHERE time_ms < ?", now_ms - RETENTION_MS)


def _row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["evidence"] = json.loads(row["evidence"]) if row.get("evidence") else {}
    return out
