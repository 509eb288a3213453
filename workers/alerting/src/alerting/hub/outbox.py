"""The outbox: notifications waiting to go out, their attempts, and per-destination throttles.

A notification is one message to one destination (a receiver's integration, or a person's
email or phone). It is `pending` until delivered or given up (`failed`); every try is an
`attempts` row, the notification log that `GET /alerts/{id}/notifications` shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from alerting.hub.db import Db, Row, dumps, loads
from alerting.message import Message
from alerting.throttle import Bucket, Limit
from obs_schema.timespec import format_rfc3339


@dataclass(frozen=True)
class Pending:
    id: int
    integration: str
    kind: str
    receiver: str
    purpose: str
    message: Message
    attempts: int

    @staticmethod
    def from_row(row: Row) -> Pending:
        return Pending(
            id=int(row["id"]),
            integration=row["integration"],
            kind=row["kind"],
            receiver=row["receiver"],
            purpose=row["purpose"],
            message=Message.from_dict(loads(row["message"])),
            attempts=int(row["attempts"]),
        )


@dataclass(frozen=True)
class Attempt:
    number: int
    at_ms: int
    duration_ms: int
    status: int | None
    outcome: str  # delivered | retry | failed
    error: str | None
    retry_ms: int | None


def _time(ms: int | None) -> str | None:
    return None if ms is None else format_rfc3339(ms / 1000)


class Outbox:
    def __init__(self, db: Db) -> None:
        self.db = db

    def enqueue(
        self,
        integration: str,
        kind: str,
        purpose: str,
        message: Message,
        actions: Mapping[str, str],
        now_ms: int,
    ) -> int:
        self.db.run(
            "INSERT INTO notifications (integration, kind, receiver, purpose, message, state, "
            "next_ms, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
            integration, kind, message.receiver, purpose, dumps(message.to_dict()), now_ms, now_ms,
            now_ms,
        )  # fmt: skip
        notification_id = int(self.db.value("SELECT last_insert_rowid()"))
        incidents = {a.fingerprint: message.incident_id for a in message.alerts}
        self.db.run(
            "INSERT OR IGNORE INTO notification_alerts (notification_id, fingerprint, action, "
            "incident_id) SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
            "json_extract(value, '$[2]') FROM json_each(?)",
            notification_id,
            dumps([[fp, action, incidents.get(fp)] for fp, action in actions.items()]),
        )
        return notification_id

    def due(self, now_ms: int, limit: int) -> list[Pending]:
        rows = self.db.rows(
            "SELECT * FROM notifications WHERE state = 'pending' AND next_ms <= ? "
            "ORDER BY next_ms, id LIMIT ?",
            now_ms, limit,
        )  # fmt: skip
        return [Pending.from_row(row) for row in rows]

    def next_due(self) -> int | None:
        value = self.db.value("SELECT min(next_ms) FROM notifications WHERE state = 'pending'")
        return None if value is None else int(value)

    def defer(self, notification_id: int, until_ms: int, now_ms: int) -> None:
        """Throttled: wait for a token, without counting an attempt."""
        self.db.run(
            "UPDATE notifications SET next_ms = ?, throttled = throttled + 1, updated_ms = ? "
            "WHERE id = ?",
            until_ms, now_ms, notification_id,
        )  # fmt: skip

    def record(self, notification_id: int, attempt: Attempt, now_ms: int) -> None:
        state = {"delivered": "delivered", "failed": "failed"}.get(attempt.outcome, "pending")
        self.db.run(
            "INSERT INTO attempts (notification_id, attempt, at_ms, duration_ms, status, outcome, "
            "error, retry_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            notification_id, attempt.number, attempt.at_ms, attempt.duration_ms, attempt.status,
            attempt.outcome, attempt.error, attempt.retry_ms,
        )  # fmt: skip
        self.db.run(
            "UPDATE notifications SET state = ?, attempts = ?, next_ms = ?, last_error = ?, "
            "updated_ms = ? WHERE id = ?",
            state, attempt.number, attempt.retry_ms, attempt.error, now_ms, notification_id,
        )  # fmt: skip

    def incidents_of(self, notification_id: int) -> list[int]:
        rows = self.db.rows(
            "SELECT DISTINCT incident_id FROM notification_alerts "
            "WHERE notification_id = ? AND incident_id IS NOT NULL",
            notification_id,
        )
        return [int(row["incident_id"]) for row in rows]

    def triggered(self, fingerprint: str, kind: str, since_ms: int) -> list[str]:
        """Integrations of `kind` that were sent a trigger for this alert's episode."""
        rows = self.db.rows(
            "SELECT DISTINCT n.integration FROM notifications n JOIN notification_alerts a "
            "ON a.notification_id = n.id WHERE a.fingerprint = ? AND a.action = 'trigger' "
            "AND n.kind = ? AND n.created_ms >= ? ORDER BY n.integration",
            fingerprint, kind, since_ms,
        )  # fmt: skip
        return [row["integration"] for row in rows]

    # --- throttling ---------------------------------------------------------------------
    def take_token(self, key: str, limit: Limit, now_ms: int) -> int:
        """0 when the destination may be sent to now, else the milliseconds to wait."""
        row = self.db.one("SELECT tokens, updated_ms FROM throttle WHERE key = ?", key)
        bucket = None if row is None else Bucket(float(row["tokens"]), int(row["updated_ms"]))
        updated, wait = limit.take(bucket, now_ms)
        self.db.run(
            "INSERT INTO throttle (key, tokens, updated_ms) VALUES (?, ?, ?) ON CONFLICT (key) "
            "DO UPDATE SET tokens = excluded.tokens, updated_ms = excluded.updated_ms",
            key, updated.tokens, updated.updated_ms,
        )  # fmt: skip
        return wait

    # --- the notification log ------------------------------------------------------------
    def log_for(self, fingerprint: str, limit: int = 200) -> list[dict[str, Any]]:
        rows = self.db.rows(
            "SELECT n.*, a.action FROM notifications n JOIN notification_alerts a "
            "ON a.notification_id = n.id WHERE a.fingerprint = ? ORDER BY n.id DESC LIMIT ?",
            fingerprint, limit,
        )  # fmt: skip
        return [self._entry(row) for row in rows]

    def _entry(self, row: Row) -> dict[str, Any]:
        attempts = self.db.rows(
            "SELECT * FROM attempts WHERE notification_id = ? ORDER BY attempt", row["id"]
        )
        message = loads(row["message"])
        return {
            "id": row["id"],
            "receiver": row["receiver"],
            "channel": row["kind"],
            "integration": row["integration"],
            "purpose": row["purpose"],
            "action": row["action"],
            "reason": message.get("reason"),
            "target": message.get("target") or None,
            "state": row["state"],
            "attempts": row["attempts"],
            "throttled": row["throttled"],
            "created_at": _time(row["created_ms"]),
            "next_attempt_at": _time(row["next_ms"]) if row["state"] == "pending" else None,
            "last_error": row["last_error"],
            "log": [
                {
                    "attempt": a["attempt"],
                    "at": _time(a["at_ms"]),
                    "duration_ms": a["duration_ms"],
                    "status": a["status"],
                    "outcome": a["outcome"],
                    "error": a["error"],
                    "retry_at": _time(a["retry_ms"]),
                }
                for a in attempts
            ],
        }

    def counts(self) -> dict[str, int]:
        rows = self.db.rows("SELECT state, count(*) AS n FROM notifications GROUP BY state")
        return {row["state"]: int(row["n"]) for row in rows}
