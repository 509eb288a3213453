"""The alerting Durable Object's tables. `CREATE ... IF NOT EXISTS` runs at every start."""

from __future__ import annotations

from alerting.hub.db import Db

STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    # One row per fingerprint: the current (or last) episode of that alert.
    """CREATE TABLE IF NOT EXISTS alerts (
        fingerprint TEXT PRIMARY KEY, name TEXT NOT NULL, severity TEXT NOT NULL,
        labels TEXT NOT NULL, annotations TEXT NOT NULL, source TEXT NOT NULL,
        generator_url TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,
        starts_ms INTEGER NOT NULL, ends_ms INTEGER, expires_ms INTEGER,
        updated_ms INTEGER NOT NULL, received INTEGER NOT NULL DEFAULT 1,
        acked_by TEXT, acked_ms INTEGER, ack_note TEXT, resolved_by TEXT,
        incident_id INTEGER, episode INTEGER NOT NULL DEFAULT 1)""",
    "CREATE INDEX IF NOT EXISTS alerts_by_status ON alerts (status, starts_ms)",
    "CREATE INDEX IF NOT EXISTS alerts_by_expiry ON alerts (expires_ms)",
    # Aggregation groups, their members and the last notification per integration.
    """CREATE TABLE IF NOT EXISTS groups (
        key TEXT PRIMARY KEY, route_key TEXT NOT NULL, receiver TEXT NOT NULL,
        labels TEXT NOT NULL, group_wait_ms INTEGER NOT NULL, group_interval_ms INTEGER NOT NULL,
        repeat_interval_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL,
        next_ms INTEGER NOT NULL, flushed INTEGER NOT NULL DEFAULT 0,
        entries TEXT NOT NULL DEFAULT '{}')""",
    "CREATE INDEX IF NOT EXISTS groups_by_next ON groups (next_ms)",
    """CREATE TABLE IF NOT EXISTS group_alerts (
        group_key TEXT NOT NULL, fingerprint TEXT NOT NULL,
        PRIMARY KEY (group_key, fingerprint)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS group_alerts_by_alert ON group_alerts (fingerprint)",
    # The outbox: one row per message to one destination; attempts are the notification log.
    """CREATE TABLE IF NOT EXISTS notifications (
        id INTEGER PRIMARY KEY AUTOINCREMENT, integration TEXT NOT NULL, kind TEXT NOT NULL,
        receiver TEXT NOT NULL, purpose TEXT NOT NULL, message TEXT NOT NULL,
        state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER,
        created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, last_error TEXT,
        throttled INTEGER NOT NULL DEFAULT 0)""",
    "CREATE INDEX IF NOT EXISTS notifications_due ON notifications (state, next_ms)",
    """CREATE TABLE IF NOT EXISTS notification_alerts (
        notification_id INTEGER NOT NULL, fingerprint TEXT NOT NULL, action TEXT NOT NULL,
        incident_id INTEGER, PRIMARY KEY (notification_id, fingerprint)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS notification_alerts_by_alert ON notification_alerts (fingerprint)",
    """CREATE TABLE IF NOT EXISTS attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, notification_id INTEGER NOT NULL,
        attempt INTEGER NOT NULL, at_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL,
        status INTEGER, outcome TEXT NOT NULL, error TEXT, retry_ms INTEGER)""",
    "CREATE INDEX IF NOT EXISTS attempts_by_notification ON attempts (notification_id)",
    """CREATE TABLE IF NOT EXISTS throttle (
        key TEXT PRIMARY KEY, tokens REAL NOT NULL, updated_ms INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS silences (
        id TEXT PRIMARY KEY, body TEXT NOT NULL, starts_ms INTEGER NOT NULL,
        ends_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS silences_by_end ON silences (ends_ms)",
    """CREATE TABLE IF NOT EXISTS escalations (
        fingerprint TEXT PRIMARY KEY, policy TEXT NOT NULL, level INTEGER NOT NULL,
        cycle INTEGER NOT NULL, next_ms INTEGER NOT NULL, started_ms INTEGER NOT NULL,
        group_key TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS escalations_by_next ON escalations (next_ms)",
    """CREATE TABLE IF NOT EXISTS incidents (
        id INTEGER PRIMARY KEY AUTOINCREMENT, group_key TEXT NOT NULL, title TEXT NOT NULL,
        status TEXT NOT NULL, severity TEXT NOT NULL, services TEXT NOT NULL,
        opened_ms INTEGER NOT NULL, acked_ms INTEGER, acked_by TEXT, resolved_ms INTEGER,
        impact TEXT NOT NULL DEFAULT '{}')""",
    "CREATE INDEX IF NOT EXISTS incidents_by_group ON incidents (group_key, status)",
    """CREATE TABLE IF NOT EXISTS incident_alerts (
        incident_id INTEGER NOT NULL, fingerprint TEXT NOT NULL,
        PRIMARY KEY (incident_id, fingerprint)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS timeline (
        id INTEGER PRIMARY KEY AUTOINCREMENT, incident_id INTEGER NOT NULL,
        at_ms INTEGER NOT NULL, kind TEXT NOT NULL, fingerprint TEXT, text TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}')""",
    "CREATE INDEX IF NOT EXISTS timeline_by_incident ON timeline (incident_id, at_ms)",
    """CREATE TABLE IF NOT EXISTS rule_state (
        rule TEXT NOT NULL, instance TEXT NOT NULL, state TEXT NOT NULL,
        since_ms INTEGER NOT NULL, value REAL, PRIMARY KEY (rule, instance)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS samples (
        metric TEXT NOT NULL, at_ms INTEGER NOT NULL, value REAL NOT NULL,
        PRIMARY KEY (metric, at_ms)) WITHOUT ROWID""",
)


def create(db: Db) -> None:
    db.script(STATEMENTS)
