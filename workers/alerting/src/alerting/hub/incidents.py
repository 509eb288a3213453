"""Incidents: related alerts (one aggregation group's episode) with a timeline.

An incident opens when an alert starts firing in a group with no open incident, gathers the
group's later alerts, is acknowledged with its first acknowledged alert, and resolves when all
its alerts have resolved. Its timeline records fired, notified, escalated, acknowledged and
resolved events and people's notes, in time order.
"""

from __future__ import annotations

from typing import Any

from alerting.hub.db import Db, Row, dumps, loads
from obs_schema.timespec import format_rfc3339

SEVERITY_ORDER = ("info", "warning", "error", "critical")


def _worse(a: str, b: str) -> str:
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    return a if rank.get(a, 1) >= rank.get(b, 1) else b


def _time(ms: int | None) -> str | None:
    return None if ms is None else format_rfc3339(ms / 1000)


class Incidents:
    def __init__(self, db: Db) -> None:
        self.db = db

    def open_for(self, group_key: str) -> int | None:
        value = self.db.value(
            "SELECT id FROM incidents WHERE group_key = ? AND status != 'resolved' "
            "ORDER BY id DESC LIMIT 1",
            group_key,
        )
        return None if value is None else int(value)

    def open(
        self, group_key: str, title: str, severity: str, services: list[str], now_ms: int
    ) -> int:
        self.db.run(
            "INSERT INTO incidents (group_key, title, status, severity, services, opened_ms) "
            "VALUES (?, ?, 'open', ?, ?, ?)",
            group_key, title, severity, dumps(sorted(set(services))), now_ms,
        )  # fmt: skip
        return int(self.db.value("SELECT last_insert_rowid()"))

    def attach(
        self, incident_id: int, fingerprint: str, severity: str, service: str | None
    ) -> None:
        row = self.row(incident_id)
        if row is None:
            return
        services = set(loads(row["services"], []))
        worse = _worse(row["severity"], severity)
        # Most alerts join an incident of their own service and severity: nothing to rewrite
        # (`services` is always stored sorted and without repeats).
        if worse != row["severity"] or (service and service not in services):
            if service:
                services.add(service)
            self.db.run(
                "UPDATE incidents SET severity = ?, services = ? WHERE id = ?",
                worse, dumps(sorted(services)), incident_id,
            )  # fmt: skip
        self.db.run(
            "INSERT OR IGNORE INTO incident_alerts (incident_id, fingerprint) VALUES (?, ?)",
            incident_id, fingerprint,
        )  # fmt: skip

    def acknowledge(self, incident_id: int, by: str, now_ms: int) -> bool:
        row = self.row(incident_id)
        if row is None or row["status"] != "open":
            return False
        self.db.run(
            "UPDATE incidents SET status = 'acknowledged', acked_ms = ?, acked_by = ? WHERE id = ?",
            now_ms, by, incident_id,
        )  # fmt: skip
        return True

    def resolve_if_done(self, incident_id: int, now_ms: int) -> bool:
        """Resolve the incident once none of its alerts is active; True when it just did."""
        row = self.row(incident_id)
        if row is None or row["status"] == "resolved":
            return False
        active = self.db.value(
            "SELECT count(*) FROM incident_alerts i JOIN alerts a ON a.fingerprint = i.fingerprint "
            "WHERE i.incident_id = ? AND a.incident_id = ? AND a.status != 'resolved'",
            incident_id, incident_id,
        )  # fmt: skip
        if active:
            return False
        self.db.run(
            "UPDATE incidents SET status = 'resolved', resolved_ms = ? WHERE id = ?",
            now_ms, incident_id,
        )  # fmt: skip
        return True

    def record(
        self,
        incident_id: int | None,
        kind: str,
        text: str,
        now_ms: int,
        fingerprint: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        if incident_id is None:
            return
        self.db.run(
            "INSERT INTO timeline (incident_id, at_ms, kind, fingerprint, text, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            incident_id, now_ms, kind, fingerprint, text, dumps(detail or {}),
        )  # fmt: skip

    def set_impact(self, incident_id: int, key: str, data: dict[str, Any]) -> None:
        row = self.row(incident_id)
        if row is None:
            return
        impact = loads(row["impact"], {})
        impact[key] = data
        self.db.run("UPDATE incidents SET impact = ? WHERE id = ?", dumps(impact), incident_id)

    def row(self, incident_id: int) -> Row | None:
        return self.db.one("SELECT * FROM incidents WHERE id = ?", incident_id)

    def fingerprints(self, incident_id: int) -> list[str]:
        rows = self.db.rows(
            "SELECT fingerprint FROM incident_alerts WHERE incident_id = ? ORDER BY fingerprint",
            incident_id,
        )
        return [row["fingerprint"] for row in rows]

    def to_api(self, row: Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "title": row["title"],
            "status": row["status"],
            "severity": row["severity"],
            "services": loads(row["services"], []),
            "group_key": row["group_key"],
            "opened_at": _time(row["opened_ms"]),
            "acknowledged_at": _time(row["acked_ms"]),
            "acknowledged_by": row["acked_by"],
            "resolved_at": _time(row["resolved_ms"]),
            "alerts": self.fingerprints(int(row["id"])),
            "impact": loads(row["impact"], {}),
        }

    def page(self, status: str | None, limit: int, before_id: int | None) -> list[Row]:
        clauses: list[str] = ["1"]
        params: list[object] = []
        if status == "open":
            clauses.append("status != 'resolved'")
        elif status:
            clauses.append("status = ?")
            params.append(status)
        if before_id is not None:
            clauses.append("id < ?")
            params.append(before_id)
        where = " AND ".join(clauses)
        return self.db.rows(
            f"SELECT * FROM incidents WHERE {where} ORDER BY id DESC LIMIT ?",  # noqa: S608
            *params, limit + 1,
        )  # fmt: skip

    def timeline(self, incident_id: int) -> list[dict[str, Any]]:
        rows = self.db.rows(
            "SELECT * FROM timeline WHERE incident_id = ? ORDER BY at_ms, id", incident_id
        )
        return [
            {
                "at": _time(row["at_ms"]),
                "kind": row["kind"],
                "alert": row["fingerprint"],
                "text": row["text"],
                "detail": loads(row["detail"], {}),
            }
            for row in rows
        ]

    def count_open(self) -> int:
        return int(self.db.value("SELECT count(*) FROM incidents WHERE status != 'resolved'"))
