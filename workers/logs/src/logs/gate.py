"""Which log records become alerts, decided in one place (the AlertGate Durable Object).

Two kinds: every `critical`/`fatal` record, and bursts - a service logging `LOGS_ERROR_BURST`
errors or worse within `LOGS_ERROR_BURST_WINDOW`. Each is sent at most once per service and
message fingerprint per `LOGS_ALERT_DEDUP`: the gate is a single Durable Object so that the
decision is consistent however many isolates ingest (KV could not count or dedup reliably).
Ingest sends it one summary per batch, never a row per record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from logs.rows import FINGERPRINT, LEVEL, MESSAGE, SERVICE, TRACE, TS
from logs.store.sqlapi import Sql

ERROR, CRITICAL = 5, 6  # Level ranks
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS errors (service TEXT NOT NULL, minute INTEGER NOT NULL,"
    " count INTEGER NOT NULL, PRIMARY KEY (service, minute)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS fired (key TEXT PRIMARY KEY, until_ms INTEGER NOT NULL)"
    " WITHOUT ROWID",
)


def summarise(rows: Sequence[list[Any]]) -> list[dict[str, Any]]:
    """Error-or-worse rows grouped by (service, fingerprint): count, worst level, a sample."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        if row[LEVEL] < ERROR:
            continue
        key = (row[SERVICE], row[FINGERPRINT])
        group = groups.get(key)
        if group is None or row[LEVEL] > group["level"]:
            sample = {"message": row[MESSAGE][:500], "trace_id": row[TRACE], "ts": row[TS]}
            count = group["count"] if group else 0
            group = groups[key] = {
                "service": key[0],
                "fingerprint": key[1],
                "level": row[LEVEL],
                "count": count,
                **sample,
            }
        group["count"] += 1
    return list(groups.values())


class GateCore:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        for statement in _SCHEMA:
            sql.exec(statement)

    def decide(
        self, groups: list[dict[str, Any]], now_ms: int, policy: dict[str, int]
    ) -> list[dict[str, Any]]:
        """The alerts to send for this batch's groups (already deduplicated)."""
        alerts = [
            {**group, "kind": "critical"}
            for group in groups
            if group["level"] >= CRITICAL and self._first(group, "critical", now_ms, policy)
        ]
        per_service: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for group in groups:
            per_service[group["service"]].append(group)
        window_start = (now_ms - policy["window_ms"]) // 60000
        for service, mine in per_service.items():
            self.sql.exec(
                "INSERT INTO errors (service, minute, count) VALUES (?, ?, ?) ON CONFLICT"
                " (service, minute) DO UPDATE SET count = count + excluded.count",
                service,
                now_ms // 60000,
                sum(group["count"] for group in mine),
            )
            total = self.sql.exec(
                "SELECT coalesce(sum(count), 0) AS n FROM errors WHERE service = ? AND minute > ?",
                service,
                window_start,
            ).one()["n"]
            top = max(mine, key=lambda group: group["count"])
            if total >= policy["threshold"] and self._first(top, "burst", now_ms, policy):
                alerts.append({**top, "kind": "burst", "count": int(total)})
        self._forget(now_ms, window_start)
        return alerts

    def _first(self, group: dict[str, Any], kind: str, now_ms: int, policy: dict[str, int]) -> bool:
        """True (and remembered) when this kind of alert was not sent within the dedup time."""
        key = f"{kind}\x1f{group['service']}\x1f{group['fingerprint']}"
        rows = self.sql.exec("SELECT until_ms FROM fired WHERE key = ?", key).toArray()
        if rows and rows[0]["until_ms"] > now_ms:
            return False
        self.sql.exec(
            "INSERT INTO fired (key, until_ms) VALUES (?, ?) ON CONFLICT (key)"
            " DO UPDATE SET until_ms = excluded.until_ms",
            key,
            now_ms + policy["dedup_ms"],
        )
        return True

    def _forget(self, now_ms: int, window_start: int) -> None:
        self.sql.exec("DELETE FROM errors WHERE minute <= ?", window_start)
        self.sql.exec("DELETE FROM fired WHERE until_ms <= ?", now_ms)
