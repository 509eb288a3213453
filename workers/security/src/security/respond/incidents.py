"""Correlation: the events of one source, across types and time, become one scored incident.

An incident stays open while its source keeps producing events less than `gap` apart. Its
score decays with a half-life (yesterday's probe weighs less than this minute's) and grows
with the variety of what the source tried: a scanner that probes SQL injection, then
traversal, then hammers the login is more certainly hostile than one noisy client. Crossing
the alert score raises an alert once; crossing the block score asks for a block once.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS incidents (id TEXT PRIMARY KEY, ip TEXT NOT NULL, "
    "opened_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, raw REAL NOT NULL, "
    "score REAL NOT NULL, status TEXT NOT NULL, types TEXT NOT NULL, events INTEGER NOT NULL, "
    "alerted INTEGER NOT NULL DEFAULT 0, blocked INTEGER NOT NULL DEFAULT 0, users TEXT)",
    "CREATE INDEX IF NOT EXISTS incidents_ip ON incidents (ip, updated_ms)",
    "CREATE INDEX IF NOT EXISTS incidents_updated ON incidents (updated_ms, id)",
)


@dataclass(frozen=True, slots=True)
class Scoring:
    gap_ms: int = 30 * 60_000
    half_life_ms: int = 60 * 60_000
    variety_bonus: float = 0.25  # per distinct event type beyond the first
    alert_score: float = 15.0
    block_score: float = 25.0


def effective(raw: float, types: int, scoring: Scoring) -> float:
    return round(raw * (1 + scoring.variety_bonus * max(0, types - 1)), 2)


class IncidentBook:
    def __init__(self, sql: Any) -> None:
        self.sql = sql
        for statement in SCHEMA:
            sql.exec(statement)

    def correlate(self, event: dict[str, Any], now_ms: int, scoring: Scoring) -> dict[str, Any]:
        """Fold `event` into its source's open incident (or open one); return the incident
        with `should_alert` / `should_block` set when this event crossed a line."""
        ip, t = str(event["ip"]), int(event.get("time_ms") or now_ms)
        rows = self.sql.exec(
            "SELECT * FROM incidents WHERE ip = ? AND status = 'open' AND updated_ms >= ? "
            "ORDER BY updated_ms DESC LIMIT 1",
            ip,
            now_ms - scoring.gap_ms,
        ).toArray()
        if rows:
            incident = _decode(rows[0])
            decay = 0.5 ** (max(0, t - incident["updated_ms"]) / scoring.half_life_ms)
            incident["raw"] = incident["raw"] * decay
        else:
            incident = {
                "id": f"inc-{t:013x}{secrets.token_hex(3)}",
                "ip": ip,
                "opened_ms": t,
                "raw": 0.0,
                "status": "open",
                "types": {},
                "events": 0,
                "alerted": 0,
                "blocked": 0,
                "users": [],
            }
        incident["raw"] += float(event.get("score", 0))
        kind = str(event["type"])
        incident["types"][kind] = incident["types"].get(kind, 0) + 1
        user = event.get("user_id")
        if user and user not in incident["users"] and len(incident["users"]) < 20:
            incident["users"].append(user)
        incident["events"] += 1
        incident["updated_ms"] = max(t, int(incident.get("updated_ms", t)))
        incident["score"] = effective(incident["raw"], len(incident["types"]), scoring)
        should_alert = not incident["alerted"] and incident["score"] >= scoring.alert_score
        should_block = not incident["blocked"] and incident["score"] >= scoring.block_score
        incident["alerted"] |= int(should_alert)
        incident["blocked"] |= int(should_block)
        self._save(incident)
        return {**_public(incident), "should_alert": should_alert, "should_block": should_block}

    def _save(self, incident: dict[str, Any]) -> None:
        self.sql.exec(
            "INSERT OR REPLACE INTO incidents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            incident["id"],
            incident["ip"],
            incident["opened_ms"],
            incident["updated_ms"],
            incident["raw"],
            incident["score"],
            incident["status"],
            json.dumps(incident["types"]),
            incident["events"],
            incident["alerted"],
            incident["blocked"],
            json.dumps(incident["users"]),
        )

    def query(
        self,
        *,
        ip: str | None,
        status: str | None,
        since_ms: int,
        min_score: float,
        limit: int,
        before: tuple[int, str] | None,
    ) -> list[dict[str, Any]]:
        where, params = ["updated_ms >= ?", "score >= ?"], list[Any]([since_ms, min_score])
        if ip is not None:
            where.append("ip = ?")
            params.append(ip)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if before is not None:
            where.append("(updated_ms < ? OR (updated_ms = ? AND id < ?))")
            params.extend([before[0], before[0], before[1]])
        rows = self.sql.exec(
            f"SELECT * FROM incidents WHERE {' AND '.join(where)} "  # noqa: S608 - fixed columns
            "ORDER BY updated_ms DESC, id DESC LIMIT ?",
            *params,
            limit,
        ).toArray()
        return [_public(_decode(r)) for r in rows]

    def get(self, incident_id: str) -> dict[str, Any] | None:
        rows = self.sql.exec("SELECT * FROM incidents WHERE id = ?", incident_id).toArray()
        return _public(_decode(rows[0])) if rows else None

    def set_status(self, incident_id: str, status: str, now_ms: int) -> dict[str, Any] | None:
        self.sql.exec("UPDATE incidents SET status = ? WHERE id = ?", status, incident_id)
        return self.get(incident_id)

    def close_idle(self, now_ms: int, scoring: Scoring) -> int:
        cursor = self.sql.exec(
            "UPDATE incidents SET status = 'closed' WHERE status = 'open' AND updated_ms < ?",
            now_ms - scoring.gap_ms,
        )
        return int(getattr(cursor, "rowsWritten", 0))


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["types"] = json.loads(row["types"])
    out["users"] = json.loads(row["users"] or "[]")
    return out


def _public(incident: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": incident["id"],
        "ip": incident["ip"],
        "status": incident["status"],
        "score": incident["score"],
        "opened_ms": incident["opened_ms"],
        "updated_ms": incident["updated_ms"],
        "types": dict(incident["types"]),
        "events": incident["events"],
        "alerted": bool(incident["alerted"]),
        "blocked": bool(incident["blocked"]),
        "users": list(incident["users"]),
    }
