"""Retention: what the hub forgets, so one Durable Object stays small for years.

Active alerts, open incidents, pending notifications and the notifications of active alerts
are never pruned. Resolved alerts go 30 days after they resolved, other delivered or failed
notifications (with their attempts) 30 days after they were created, resolved incidents (with
their timelines) 180 days after they resolved, expired silences 7 days after their end.
Pruning runs at most once an hour, from the rule cron, in bounded batches.
"""

from __future__ import annotations

from alerting.hub.db import Db, dumps

DAY_MS = 86_400_000
ALERTS_MS = 30 * DAY_MS
NOTIFICATIONS_MS = 30 * DAY_MS
INCIDENTS_MS = 180 * DAY_MS
SILENCES_MS = 7 * DAY_MS
EVERY_MS = 3_600_000
BATCH = 5000


def due(db: Db, now_ms: int) -> bool:
    last = db.setting("pruned_at")
    return last is None or now_ms - int(last) >= EVERY_MS


def prune(db: Db, now_ms: int) -> dict[str, int]:
    """Delete what is past retention; returns how many rows of each kind went."""
    db.put_setting("pruned_at", now_ms)
    unused = "fingerprint NOT IN (SELECT fingerprint FROM group_alerts)"
    quiet = (  # the log of an alert that is still active stays whole
        "id NOT IN (SELECT n.notification_id FROM notification_alerts n JOIN alerts a "
        "ON a.fingerprint = n.fingerprint WHERE a.status != 'resolved')"
    )
    counts = {
        "alerts": _delete(
            db, "alerts", "fingerprint", f"status = 'resolved' AND ends_ms < ? AND {unused}",
            now_ms - ALERTS_MS,
        ),
        "notifications": _delete(
            db, "notifications", "id", f"state != 'pending' AND created_ms < ? AND {quiet}",
            now_ms - NOTIFICATIONS_MS,
        ),
        "incidents": _delete(
            db, "incidents", "id", "status = 'resolved' AND resolved_ms < ?",
            now_ms - INCIDENTS_MS,
        ),
    }  # fmt: skip
    # Rows that hang off deleted parents.
    for table, column, parent in (
        ("attempts", "notification_id", "notifications"),
        ("notification_alerts", "notification_id", "notifications"),
        ("timeline", "incident_id", "incidents"),
        ("incident_alerts", "incident_id", "incidents"),
    ):
        db.run(f"DELETE FROM {table} WHERE {column} NOT IN (SELECT id FROM {parent})")  # noqa: S608
    db.run("DELETE FROM silences WHERE ends_ms < ?", now_ms - SILENCES_MS)
    return counts


def _delete(db: Db, table: str, key: str, where: str, before_ms: int) -> int:
    rows = db.rows(f"SELECT {key} AS k FROM {table} WHERE {where} LIMIT ?", before_ms, BATCH)  # noqa: S608
    if rows:
        keys = [row["k"] for row in rows]
        db.run(
            f"DELETE FROM {table} WHERE {key} IN (SELECT value FROM json_each(?))",  # noqa: S608
            dumps(keys),
        )
    return len(rows)
