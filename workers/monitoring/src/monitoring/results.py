"""Every result of one check, in its Durable Object's SQLite, with the queries over them."""

from __future__ import annotations

from typing import Any

from monitoring import latency
from monitoring.state import Outcome
from obs_schema.timespec import format_rfc3339

RETENTION_MS = 90 * 86_400_000 + 86_400_000  # the longest uptime window, plus a day
PRUNE_EVERY_MS = 3_600_000
MAX_PAGE = 1000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  latency_ms REAL,
  status_code INTEGER,
  error TEXT,
  attempt INTEGER NOT NULL,
  lag_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS results_ts ON results (ts)
"""


class Results:
    def __init__(self, sql: Any) -> None:
        self.sql = sql
        sql.exec(_SCHEMA)

    def add(self, at: int, outcome: Outcome, *, attempt: int, lag_ms: int) -> None:
        self.sql.exec(
            "INSERT INTO results (ts, ok, latency_ms, status_code, error, attempt, lag_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            at,
            1 if outcome.ok else 0,
            outcome.latency_ms,
            outcome.status_code,
            outcome.error if not outcome.ok else outcome.detail,
            attempt,
            lag_ms,
        )
        self._prune(at)

    def _prune(self, now: int) -> None:
        # At most once an hour, and cheaply: the index finds the old rows.
        last = self.sql.exec("SELECT min(ts) AS t FROM results").one()["t"]
        if last is not None and last < now - RETENTION_MS - PRUNE_EVERY_MS:
            self.sql.exec("DELETE FROM results WHERE ts < ?", now - RETENTION_MS)

    def page(self, since: int, until: int, limit: int, before_id: int | None) -> dict[str, Any]:
        """Results in `[since, until)`, newest first; `next` is the id to continue below."""
        rows = self.sql.exec(
            "SELECT * FROM results WHERE ts >= ? AND ts < ? AND id < ? ORDER BY id DESC LIMIT ?",
            since,
            until,
            before_id if before_id is not None else 2**62,
            min(limit, MAX_PAGE) + 1,
        ).toArray()
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "results": [_view(row) for row in rows],
            "next": rows[-1]["id"] if more and rows else None,
        }

    def latest(self) -> dict[str, Any] | None:
        rows = self.sql.exec("SELECT * FROM results ORDER BY id DESC LIMIT 1").toArray()
        return _view(rows[0]) if rows else None

    def latency(self, since: int, until: int) -> dict[str, Any]:
        rows = self.sql.exec(
            "SELECT latency_ms FROM results WHERE ts >= ? AND ts < ? AND ok = 1 "
            "AND latency_ms IS NOT NULL",
            since,
            until,
        ).toArray()
        return latency.summarise(float(row["latency_ms"]) for row in rows)


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "time": format_rfc3339(row["ts"] / 1000),
        "ok": bool(row["ok"]),
        "latency_ms": row["latency_ms"],
        "status_code": row["status_code"],
        "error": None if row["ok"] else row["error"],
        "detail": row["error"] if row["ok"] else None,
        "attempt": row["attempt"],
        "lag_ms": row["lag_ms"],
    }
