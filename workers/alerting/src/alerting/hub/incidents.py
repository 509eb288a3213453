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

    def open_for_many(self, group_keys: list[str]) -> dict[str, int]:
        """`open_for` of each group key (groups without an open incident left out)."""
        rows = self.db.rows(
            "SELECT group_key, max(id) AS id FROM incidents WHERE status != 'resolved' "
            "AND group_key IN (SELECT value FROM json_each(?)) GROUP BY group_key",
            dumps(group_keys),
        )
        return {row["group_key"]: int(row["id"]) for row in rows}

    def attach_many(self, joining: list[tuple[int, str, str, str | None]]) -> None:
        """`attach` for several (incident, fingerprint, severity, service), in that order:
        each incident's row is read once and written once, if at all."""
        ids = sorted({incident for incident, _, _, _ in joining})
        rows = self.db.rows(
            "SELECT id, severity, services FROM incidents "
            "WHERE id IN (SELECT value FROM json_each(?))",
            dumps(ids),
        )
        stored = {int(row["id"]): row for row in rows}
        state = {i: (r["severity"], set(loads(r["services"], []))) for i, r in stored.items()}
        members = []
        for incident, fingerprint, severity, service in joining:
            if incident not in state:
                continue  # as `attach`: an incident that is gone takes no alerts
            worst, services = state[incident]
            if service:
                services.add(service)
            state[incident] = (_worse(worst, severity), services)
            members.append([incident, fingerprint])
        for incident, (severity, services) in state.items():
            text = dumps(sorted(services))
            if severity != stored[incident]["severity"] or text != stored[incident]["services"]:
                self.db.run(
                    "UPDATE incidents SET severity = ?, services = ? WHERE id = ?",
                    severity, text, incident,
                )  # fmt: skip
        self.db.run(
            "INSERT OR IGNORE INTO incident_alerts (incident_id, fingerprint) "
            "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)",
            dumps(members),
        )

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

    def record_many(self, entries: list[list[Any]], now_ms: int) -> None:
        """`record` of several [incident, kind, text, fingerprint, detail], ids in that order."""
        rows = [[i, kind, text, fp, dumps(detail)] for i, kind, text, fp, detail in entries]
        self.db.run(
            "INSERT INTO timeline (incident_id, at_ms, kind, fingerprint, text, detail) "
            "SELECT json_extract(value, '$[0]'), ?, json_extract(value, '$[1]'), "
            "json_extract(value, '$[3]'), json_extract(value, '$[2]'), "
            "json_extract(value, '$[4]') FROM json_each(?)",
            now_ms, dumps(rows),
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
