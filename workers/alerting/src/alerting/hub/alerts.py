"""The alerts table: one row per fingerprint, holding that alert's current (or last) episode.

Lifecycle: `firing` -> `acknowledged` (by whom, when) -> `resolved` (by a resolved event, a
rule recovering, an expired `endsAt`, or by hand). A firing event for a resolved alert starts
a new episode; a firing event for an active one is deduplicated (counted in `received`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from alerting.hub.db import Db, Row, dumps, loads
from alerting.message import AlertView
from obs_schema.timespec import format_rfc3339

ACTIVE = ("firing", "acknowledged")
STATUSES = ("firing", "acknowledged", "resolved")


@dataclass(frozen=True)
class Alert:
    fingerprint: str
    name: str
    severity: str
    labels: dict[str, str]
    annotations: dict[str, Any]
    source: str
    generator_url: str
    status: str
    starts_ms: int
    ends_ms: int | None
    expires_ms: int | None
    updated_ms: int
    received: int
    acked_by: str | None
    acked_ms: int | None
    ack_note: str | None
    resolved_by: str | None
    incident_id: int | None
    episode: int

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @staticmethod
    def from_row(row: Row) -> Alert:
        return Alert(
            **{**row, "labels": loads(row["labels"]), "annotations": loads(row["annotations"])}
        )

    def view(self, base_url: str, links: Mapping[str, str] | None = None) -> AlertView:
        links = links or {}
        return AlertView(
            fingerprint=self.fingerprint,
            name=self.name,
            status="firing" if self.active else "resolved",
            severity=self.severity,
            labels=self.labels,
            annotations=self.annotations,
            starts_ms=self.starts_ms,
            ends_ms=self.ends_ms,
            source=self.source,
            generator_url=self.generator_url,
            acknowledged_by=self.acked_by if self.status == "acknowledged" else None,
            url=f"{base_url}/alerts/{self.fingerprint}" if base_url else "",
            ack_url=links.get("ack", ""),
            resolve_url=links.get("resolve", ""),
        )

    def to_api(self, silenced_by: list[str], inhibited_by: list[str]) -> dict[str, Any]:
        suppressed = self.active and bool(silenced_by or inhibited_by)
        return {
            "id": self.fingerprint,
            "fingerprint": self.fingerprint,
            "name": self.name,
            "severity": self.severity,
            "status": self.status,
            "state": "suppressed" if suppressed else "active" if self.active else "inactive",
            "silenced_by": silenced_by,
            "inhibited_by": inhibited_by,
            "labels": self.labels,
            "annotations": self.annotations,
            "source": self.source,
            "generator_url": self.generator_url,
            "starts_at": _time(self.starts_ms),
            "ends_at": _time(self.ends_ms) if not self.active else None,
            "expires_at": _time(self.expires_ms) if self.active and self.expires_ms else None,
            "updated_at": _time(self.updated_ms),
            "received": self.received,
            "acknowledged": None
            if self.acked_by is None
            else {"by": self.acked_by, "at": _time(self.acked_ms), "note": self.ack_note or ""},
            "resolved_by": self.resolved_by,
            "incident_id": self.incident_id,
            "episode": self.episode,
        }


def _time(ms: int | None) -> str | None:
    return None if ms is None else format_rfc3339(ms / 1000)


class Alerts:
    def __init__(self, db: Db) -> None:
        self.db = db

    def get(self, fingerprint: str) -> Alert | None:
        row = self.db.one("SELECT * FROM alerts WHERE fingerprint = ?", fingerprint)
        return None if row is None else Alert.from_row(row)

    def many(self, fingerprints: list[str]) -> dict[str, Alert]:
        rows = self.db.rows(
            "SELECT * FROM alerts WHERE fingerprint IN (SELECT value FROM json_each(?))",
            dumps(fingerprints),
        )
        return {row["fingerprint"]: Alert.from_row(row) for row in rows}

    def active(self) -> list[Alert]:
        rows = self.db.rows("SELECT * FROM alerts WHERE status IN ('firing', 'acknowledged')")
        return [Alert.from_row(row) for row in rows]

    def start(self, event: Mapping[str, Any], previous: Alert | None, now_ms: int) -> Alert:
        """A new episode: the first firing event, or one after the alert resolved."""
        row = self.db.one(
            "INSERT OR REPLACE INTO alerts (fingerprint, name, severity, labels, annotations, "
            "source, generator_url, status, starts_ms, ends_ms, expires_ms, updated_ms, received, "
            "acked_by, acked_ms, ack_note, resolved_by, incident_id, episode) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'firing', ?, NULL, ?, ?, 1, "
            "NULL, NULL, NULL, NULL, NULL, ?) RETURNING *",
            event["fingerprint"], event["name"], event["severity"], dumps(event["labels"]),
            dumps(event["annotations"]), event["source"], event.get("generator_url") or "",
            event.get("starts_ms") or now_ms, event.get("expires_ms"), now_ms,
            (previous.episode + 1) if previous else 1,
        )  # fmt: skip
        assert row is not None
        return Alert.from_row(row)

    def start_many(self, starts: list[list[Any]], now_ms: int) -> None:
        """`start` for several alerts at once, each row already with its incident:
        [event, previous episode or 0, incident id] per alert."""
        rows = [
            [
                event["fingerprint"], event["name"], event["severity"], dumps(event["labels"]),
                dumps(event["annotations"]), event["source"], event.get("generator_url") or "",
                event.get("starts_ms") or now_ms, event.get("expires_ms"), episode + 1, incident,
            ]
            for event, episode, incident in starts
        ]  # fmt: skip
        self.db.run(
            "INSERT OR REPLACE INTO alerts (fingerprint, name, severity, labels, annotations, "
            "source, generator_url, status, starts_ms, ends_ms, expires_ms, updated_ms, received, "
            "acked_by, acked_ms, ack_note, resolved_by, incident_id, episode) "
            "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
            "json_extract(value, '$[2]'), json_extract(value, '$[3]'), "
            "json_extract(value, '$[4]'), json_extract(value, '$[5]'), "
            "json_extract(value, '$[6]'), 'firing', json_extract(value, '$[7]'), NULL, "
            "json_extract(value, '$[8]'), ?, 1, NULL, NULL, NULL, NULL, "
            "json_extract(value, '$[10]'), json_extract(value, '$[9]') FROM json_each(?)",
            now_ms, dumps(rows),
        )  # fmt: skip

    def refresh(self, alert: Alert, event: Mapping[str, Any], now_ms: int) -> None:
        """A duplicate firing event: newest annotations and deadline, one more received."""
        self.db.run(
            "UPDATE alerts SET severity = ?, labels = ?, annotations = ?, expires_ms = ?, "
            "generator_url = ?, updated_ms = ?, received = received + 1 WHERE fingerprint = ?",
            event["severity"], dumps(event["labels"]), dumps(event["annotations"]),
            event.get("expires_ms"), event.get("generator_url") or alert.generator_url, now_ms,
            alert.fingerprint,
        )  # fmt: skip

    def resolve(self, fingerprint: str, ends_ms: int, by: str, now_ms: int) -> None:
        self.db.run(
            "UPDATE alerts SET status = 'resolved', ends_ms = ?, resolved_by = ?, "
            "expires_ms = NULL, updated_ms = ? WHERE fingerprint = ?",
            ends_ms, by, now_ms, fingerprint,
        )  # fmt: skip

    def acknowledge(self, fingerprint: str, by: str, note: str, now_ms: int) -> None:
        self.db.run(
            "UPDATE alerts SET status = 'acknowledged', acked_by = ?, acked_ms = ?, ack_note = ?, "
            "updated_ms = ? WHERE fingerprint = ?",
            by, now_ms, note, now_ms, fingerprint,
        )  # fmt: skip

    def set_incident(self, fingerprint: str, incident_id: int) -> None:
        self.db.run(
            "UPDATE alerts SET incident_id = ? WHERE fingerprint = ?", incident_id, fingerprint
        )

    def expired(self, now_ms: int) -> list[Alert]:
        rows = self.db.rows(
            "SELECT * FROM alerts WHERE expires_ms <= ? AND status IN ('firing', 'acknowledged')",
            now_ms,
        )
        return [Alert.from_row(row) for row in rows]

    def page(
        self, filters: Mapping[str, Any], limit: int, cursor: str | None
    ) -> tuple[list[Alert], str | None]:
        """Newest first; `cursor` continues after the last alert of the previous page."""
        clauses: list[str] = ["1"]
        params: list[object] = []
        if filters.get("status") == "active":
            clauses.append("status IN ('firing', 'acknowledged')")
        elif filters.get("status"):
            clauses.append("status = ?")
            params.append(filters["status"])
        for key in ("fingerprint", "severity", "name", "source"):
            if filters.get(key):
                clauses.append(f"{key} = ?")
                params.append(filters[key])
        if filters.get("service"):
            clauses.append("json_extract(labels, '$.service') = ?")
            params.append(filters["service"])
        if cursor:
            starts, fingerprint = decode_cursor(cursor)
            clauses.append("(starts_ms < ? OR (starts_ms = ? AND fingerprint > ?))")
            params += [starts, starts, fingerprint]
        where = " AND ".join(clauses)
        rows = self.db.rows(
            f"SELECT * FROM alerts WHERE {where} ORDER BY starts_ms DESC, fingerprint LIMIT ?",  # noqa: S608
            *params, limit + 1,
        )  # fmt: skip
        alerts = [Alert.from_row(row) for row in rows[:limit]]
        more = len(rows) > limit
        return alerts, encode_cursor(alerts[-1].starts_ms, alerts[-1].fingerprint) if more else None

    def counts(self) -> dict[str, int]:
        rows = self.db.rows("SELECT status, count(*) AS n FROM alerts GROUP BY status")
        found = {row["status"]: int(row["n"]) for row in rows}
        return {status: found.get(status, 0) for status in STATUSES}


def encode_cursor(starts_ms: int, fingerprint: str) -> str:
    raw = json.dumps([starts_ms, fingerprint], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[int, str]:
    """Raises ValueError for anything that is not a cursor this API issued."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        starts, fingerprint = json.loads(raw)
    except Exception:
        raise ValueError("invalid cursor") from None
    if not isinstance(starts, int) or not isinstance(fingerprint, str):
        raise ValueError("invalid cursor")
    return starts, fingerprint
