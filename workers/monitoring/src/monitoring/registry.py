"""The registry: the logic of the single `Registry` Durable Object.

It holds what must be consistent across monitors: the check definitions (with the heartbeat
token index), the board of current states every monitor reports after each run, and a copy of
every incident. Uptime, the status page, SLA reports and the summary are computed here from
incidents and maintenance windows, without fanning out to every monitor.
"""

from __future__ import annotations

import json
from typing import Any

from monitoring import maintenance
from monitoring.store import Documents
from monitoring.uptime import History, Incident

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checks (
  id TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  source TEXT NOT NULL,
  token_hash TEXT UNIQUE,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS board (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY,
  check_id TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  ended_ms INTEGER,
  first_error TEXT,
  cause TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_started ON incidents (started_ms);
CREATE INDEX IF NOT EXISTS incidents_check ON incidents (check_id, started_ms)
"""
MAX_PAGE = 500
# One query for checks with their board entry (no query per check).
_WITH_BOARD = (
    "SELECT checks.*, board.doc AS board FROM checks LEFT JOIN board ON board.id = checks.id"
)


def _record(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "spec": json.loads(row["spec"]),
        "source": row["source"],
        "created_ms": row["created_ms"],
        "updated_ms": row["updated_ms"],
        "board": json.loads(row["board"]) if row["board"] else None,
    }


class RegistryCore:
    def __init__(self, sql: Any) -> None:
        self.sql = sql
        sql.exec(_SCHEMA)
        self.docs = Documents(sql)

    # --- definitions ------------------------------------------------------------------------
    def create(
        self, spec: dict[str, Any], source: str, token_hash: str | None, now: int
    ) -> dict[str, Any] | None:
        """Add a check; None when its id is taken."""
        if self._row(spec["id"]) is not None:
            return None
        self.sql.exec(
            "INSERT INTO checks (id, spec, source, token_hash, created_ms, updated_ms) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            spec["id"],
            json.dumps(spec),
            source,
            token_hash,
            now,
            now,
        )
        return self.get(spec["id"])

    def replace(self, spec: dict[str, Any], now: int) -> dict[str, Any] | None:
        if self._row(spec["id"]) is None:
            return None
        self.sql.exec(
            "UPDATE checks SET spec = ?, updated_ms = ? WHERE id = ?",
            json.dumps(spec),
            now,
            spec["id"],
        )
        return self.get(spec["id"])

    def set_token(self, check_id: str, token_hash: str) -> bool:
        changed = self.sql.exec(
            "UPDATE checks SET token_hash = ? WHERE id = ?", token_hash, check_id
        ).rowsWritten
        return bool(changed)

    def delete(self, check_id: str) -> bool:
        if self._row(check_id) is None:
            return False
        self.sql.exec("DELETE FROM checks WHERE id = ?", check_id)
        self.sql.exec("DELETE FROM board WHERE id = ?", check_id)
        return True

    def get(self, check_id: str) -> dict[str, Any] | None:
        rows = self.sql.exec(f"{_WITH_BOARD} WHERE checks.id = ?", check_id).toArray()
        return _record(rows[0]) if rows else None

    def all(self) -> list[dict[str, Any]]:
        rows = self.sql.exec(f"{_WITH_BOARD} ORDER BY checks.id").toArray()
        return [_record(row) for row in rows]

    def by_token(self, token_hash: str) -> str | None:
        rows = self.sql.exec("SELECT id FROM checks WHERE token_hash = ?", token_hash).toArray()
        return str(rows[0]["id"]) if rows else None

    def _row(self, check_id: str) -> dict[str, Any] | None:
        rows = self.sql.exec("SELECT * FROM checks WHERE id = ?", check_id).toArray()
        return rows[0] if rows else None

    # --- reports from monitors --------------------------------------------------------------
    def report(self, check_id: str, report: dict[str, Any]) -> bool:
        """A monitor's state after a run, with incidents opened or closed since its last report.
        Reports of deleted checks are dropped."""
        if self._row(check_id) is None:
            return False
        incidents = report.pop("incidents", [])
        self.sql.exec(
            "INSERT OR REPLACE INTO board (id, doc) VALUES (?, ?)", check_id, json.dumps(report)
        )
        for incident in incidents:
            self.sql.exec(
                "INSERT OR REPLACE INTO incidents (id, check_id, started_ms, ended_ms, "
                "first_error, cause) VALUES (?, ?, ?, ?, ?, ?)",
                incident["id"],
                check_id,
                incident["started_ms"],
                incident["ended_ms"],
                incident["first_error"],
                incident["cause"],
            )
        return True

    def overdue(self, now: int, slack_ms: int) -> list[str]:
        """Checks whose next run is more than `slack_ms` late (their alarm went missing)."""
        late = []
        for row in self.sql.exec("SELECT id, doc FROM board").toArray():
            due = json.loads(row["doc"]).get("next_due_ms")
            if due is not None and due < now - slack_ms:
                late.append(str(row["id"]))
        return late

    # --- incidents and history --------------------------------------------------------------
    def incidents(
        self,
        *,
        check_id: str | None,
        state: str | None,
        since: int,
        until: int,
        limit: int,
        before: list[Any] | None,
    ) -> dict[str, Any]:
        """Incidents overlapping `[since, until)`, newest first, paged by (started, id)."""
        query = "SELECT * FROM incidents WHERE started_ms < ? AND coalesce(ended_ms, ?) >= ?"
        params: list[Any] = [until, until, since]
        if check_id is not None:
            query, params = query + " AND check_id = ?", [*params, check_id]
        if state == "open":
            query += " AND ended_ms IS NULL"
        elif state == "resolved":
            query += " AND ended_ms IS NOT NULL"
        if before:
            query += " AND (started_ms < ? OR (started_ms = ? AND id < ?))"
            params += [before[0], before[0], before[1]]
        query += " ORDER BY started_ms DESC, id DESC LIMIT ?"
        rows = self.sql.exec(query, *params, min(limit, MAX_PAGE) + 1).toArray()
        more, rows = len(rows) > limit, rows[:limit]
        return {
            "incidents": rows,
            "next": [rows[-1]["started_ms"], rows[-1]["id"]] if more else None,
        }

    def history(self, check_id: str) -> History | None:
        row = self._row(check_id)
        if row is None:
            return None
        spec = json.loads(row["spec"])
        rows = self.sql.exec(
            "SELECT started_ms, ended_ms FROM incidents WHERE check_id = ? ORDER BY started_ms",
            check_id,
        ).toArray()
        return History(
            created_ms=int(row["created_ms"]),
            incidents=[Incident(r["started_ms"], r["ended_ms"]) for r in rows],
            maintenance=maintenance.parse_all(spec.get("maintenance")),
        )

    def histories(self, since_ms: int) -> dict[str, tuple[dict[str, Any], History]]:
        """Every check with its history of incidents overlapping `[since_ms, now)`, in two
        queries (the status page and the snapshot read every check each time)."""
        incidents: dict[str, list[Incident]] = {}
        rows = self.sql.exec(
            "SELECT check_id, started_ms, ended_ms FROM incidents "
            "WHERE ended_ms IS NULL OR ended_ms >= ? ORDER BY started_ms",
            since_ms,
        ).toArray()
        for row in rows:
            found = Incident(row["started_ms"], row["ended_ms"])
            incidents.setdefault(row["check_id"], []).append(found)
        result = {}
        for record in self.all():
            spec = record["spec"]
            history = History(
                created_ms=int(record["created_ms"]),
                incidents=incidents.get(spec["id"], []),
                maintenance=maintenance.parse_all(spec.get("maintenance")),
            )
            result[spec["id"]] = (record, history)
        return result

    def open_incidents(self) -> int:
        row = self.sql.exec("SELECT count(*) AS n FROM incidents WHERE ended_ms IS NULL").one()
        return int(row["n"])

    # --- small things -----------------------------------------------------------------------
    def echo(self, nonce: str) -> str:
        """A write-then-read round trip (the internal Durable Object check)."""
        self.docs.put("probe", nonce)
        return str(self.docs.get("probe"))


def _declared_changes(
    core: RegistryCore, specs: list[dict[str, Any]], now: int
) -> dict[str, list[Any]]:
    """Bring the file-declared checks in line with `specs`; what the monitors must be told."""
    stored = {r["spec"]["id"]: r for r in core.all() if r["source"] == "file"}
    configure, blocked = [], []
    for spec in specs:
        record = stored.pop(spec["id"], None)
        if record is None:
            if core.create(spec, "file", None, now) is None:
                blocked.append(spec["id"])  # an API check already has this id
                continue
        elif record["spec"] == spec:
            continue
        else:
            core.replace(spec, now)
        created = core.get(spec["id"])
        assert created is not None
        configure.append({"spec": spec, "created_ms": created["created_ms"]})
    for check_id in stored:
        core.delete(check_id)
    return {"configure": configure, "remove": sorted(stored), "blocked": blocked}


def sync_declared(
    core: RegistryCore, specs: list[dict[str, Any]], digest: str, now: int
) -> dict[str, list[Any]]:
    """Apply the declared checks once per version of the file (`digest`)."""
    if core.docs.get("declared_digest") == digest:
        return {"configure": [], "remove": [], "blocked": []}
    changes = _declared_changes(core, specs, now)
    core.docs.put("declared_digest", digest)
    return changes
