"""Spans of one span shard (a Durable Object's SQLite): every span of a trace lands here.

Ingest: the Worker sends a chunk's rows as one JSON array (one string crosses RPC, not a
value per cell), the shard binds them a few rows per statement, `INSERT OR IGNORE` drops
exporter retries and `RETURNING` says which rows were new, so statistics count every span
exactly once. Per-trace summaries (for search and tail sampling), service-map edges and N+1
repeats are derived in the same event, from what is stored: a child that arrived before its
parent gets its edge when the parent arrives.
"""

from __future__ import annotations

import json
from typing import Any

from apm.rows import COLUMNS, ROW_WIDTH

REPEAT_FLOOR = 3  # repeats stored per trace and fingerprint; the N of "N+1" is chosen at query

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS spans (trace_id TEXT NOT NULL, span_id TEXT NOT NULL,"
    " parent_id TEXT NOT NULL, name TEXT NOT NULL, kind INTEGER NOT NULL, service TEXT NOT NULL,"
    " route TEXT NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,"
    " status INTEGER NOT NULL, error INTEGER NOT NULL, fingerprint TEXT NOT NULL,"
    " db_system TEXT NOT NULL, resource_id TEXT NOT NULL, attributes TEXT NOT NULL,"
    " extra TEXT NOT NULL)",
    # A rowid table: rows append in arrival order and only this small index takes the random
    # trace ids (a WITHOUT ROWID table would move whole rows on every page split).
    "CREATE UNIQUE INDEX IF NOT EXISTS spans_by_id ON spans (trace_id, span_id)",
    "CREATE TABLE IF NOT EXISTS resources (id TEXT PRIMARY KEY, attributes TEXT NOT NULL)"
    " WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS traces (trace_id TEXT PRIMARY KEY, start_ns INTEGER NOT NULL,"
    " end_ns INTEGER NOT NULL, span_count INTEGER NOT NULL, error_count INTEGER NOT NULL,"
    " services TEXT NOT NULL, root_service TEXT, root_name TEXT, root_route TEXT,"
    " updated_ms INTEGER NOT NULL, decision INTEGER, archive TEXT) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS traces_by_start ON traces (start_ns)",
    "CREATE INDEX IF NOT EXISTS traces_pending ON traces (updated_ms) WHERE decision IS NULL",
    # Ingest asks "is any trace dropped?" on every batch: answered from this index, not a scan.
    "CREATE INDEX IF NOT EXISTS traces_dropped ON traces (trace_id) WHERE decision = 0",
    "CREATE TABLE IF NOT EXISTS repeats (trace_id TEXT NOT NULL, fingerprint TEXT NOT NULL,"
    " db_system TEXT NOT NULL, service TEXT NOT NULL, count INTEGER NOT NULL,"
    " total_ns INTEGER NOT NULL, start_ns INTEGER NOT NULL,"
    " PRIMARY KEY (trace_id, fingerprint)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS repeats_by_start ON repeats (start_ns)",
    # What search needs of an archived trace's spans (their rows go to R2): one row per
    # service, route and error flag, with the longest duration among them.
    "CREATE TABLE IF NOT EXISTS archived_facts (trace_id TEXT NOT NULL, service TEXT NOT NULL,"
    " route TEXT NOT NULL, error INTEGER NOT NULL, duration_ns INTEGER NOT NULL,"
    " start_ns INTEGER NOT NULL, PRIMARY KEY (trace_id, service, route, error)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS archived_facts_by_start ON archived_facts (start_ns)",
)
_FACTS = (
    "INSERT OR REPLACE INTO archived_facts (trace_id, service, route, error, duration_ns,"
    " start_ns) SELECT trace_id, service, route, error, max(end_ns - start_ns), min(start_ns)"
    " FROM spans WHERE trace_id IN (SELECT value->>0 FROM json_each(?))"
    " GROUP BY trace_id, service, route, error"
)

# Rows are bound as parameters, `ROWS_PER_INSERT` per statement (at most 100 bound values per
# statement on Durable Objects): several times faster than `json_each` with one `->>` per
# column, which makes SQLite re-parse the row's JSON for each of its 16 columns.
ROWS_PER_INSERT = 100 // ROW_WIDTH
_VALUES = "(" + ", ".join("?" for _ in range(ROW_WIDTH)) + ")"
_INSERTS = {
    n: "INSERT OR IGNORE INTO spans ({}) VALUES {} RETURNING trace_id, span_id".format(  # noqa: S608
        ", ".join(COLUMNS), ", ".join([_VALUES] * n)
    )
    for n in range(1, ROWS_PER_INSERT + 1)
}
_TRACES = (
    "INSERT INTO traces (trace_id, start_ns, end_ns, span_count, error_count, services,"
    " root_service, root_name, root_route, updated_ms)"
    " SELECT trace_id, min(start_ns), max(end_ns), count(*), sum(error),"
    " ',' || group_concat(DISTINCT service) || ',',"
    " max(CASE WHEN parent_id = '' THEN service END), max(CASE WHEN parent_id = '' THEN name END),"
    " max(CASE WHEN parent_id = '' THEN route END), ?2 FROM spans"
    " WHERE trace_id IN (SELECT value->>0 FROM json_each(?1)) GROUP BY trace_id"
    " ON CONFLICT (trace_id) DO UPDATE SET start_ns = excluded.start_ns,"
    " end_ns = excluded.end_ns, span_count = excluded.span_count,"
    " error_count = excluded.error_count, services = excluded.services,"
    " root_service = excluded.root_service, root_name = excluded.root_name,"
    " root_route = excluded.root_route, updated_ms = excluded.updated_ms"
)
# Cross-service parent -> child pairs completed by this chunk: a new child (`?1` lists the new
# [trace, span] ids) under any parent, or an older child (rowid before `?2`, the chunk's first)
# whose parent just arrived. Each older child is visited once per chunk, not once per new span.
_EDGES = (
    "SELECT p.service AS caller, c.service AS callee, c.start_ns, c.end_ns, c.error, c.trace_id,"
    " c.span_id FROM json_each(?1) AS n"
    " JOIN spans AS c ON c.trace_id = n.value->>0 AND c.span_id = n.value->>1"
    " JOIN spans AS p ON p.trace_id = c.trace_id AND p.span_id = c.parent_id"
    " WHERE c.parent_id != '' AND p.service != c.service"
    " UNION ALL"
    " SELECT p.service, c.service, c.start_ns, c.end_ns, c.error, c.trace_id, c.span_id"
    " FROM spans AS c JOIN spans AS p ON p.trace_id = c.trace_id AND p.span_id = c.parent_id"
    " WHERE c.trace_id IN (SELECT value->>0 FROM json_each(?1)) AND c.rowid < ?2"
    " AND p.rowid >= ?2 AND c.parent_id != '' AND p.service != c.service"
)
_REPEATS = (
    "INSERT OR REPLACE INTO repeats (trace_id, fingerprint, db_system, service, count,"
    " total_ns, start_ns) SELECT trace_id, fingerprint, max(db_system), max(service), count(*),"
    " sum(end_ns - start_ns), min(start_ns) FROM spans WHERE trace_id IN"
    " (SELECT value->>0 FROM json_each(?1) WHERE value->>2 = 1) AND fingerprint != ''"
    " GROUP BY trace_id, fingerprint HAVING count(*) >= ?2"
)


class SpanStore:
    def __init__(self, sql: Any) -> None:
        self.sql = sql
        # Resource ids stored by this object since it started (content ids: never stale, as
        # long as `forget` clears it when it deletes resources).
        self._resources: set[str] = set()
        for statement in SCHEMA:
            sql.exec(statement)

    # --- ingest -----------------------------------------------------------------------------
    def insert(
        self, chunks: list[list[Any]], resources: list[list[str]], now_ms: int
    ) -> dict[str, Any]:
        """Store `[rows_json, ids_json, count, has_db]` chunks (`ids`: `[trace, span, is_db]`).

        Answers how many rows were already stored (exporter retries), the `trace+span` ids
        that were new when some were not, and the cross-service edges the new rows completed.
        """
        for resource_id, attributes in resources:
            if resource_id not in self._resources:  # a service sends the same few, again and again
                self.sql.exec(
                    "INSERT OR IGNORE INTO resources (id, attributes) VALUES (?, ?)",
                    resource_id,
                    attributes,
                )
                self._resources.add(resource_id)
        new: list[str] = []
        edges: list[list[Any]] = []
        duplicates = 0
        for rows, ids, count, databases in chunks:
            first = self.sql.exec("SELECT coalesce(max(rowid), 0) + 1 AS r FROM spans").one()["r"]
            inserted = self._insert_rows(json.loads(rows))
            keys = ids  # the usual case: every row was new
            if len(inserted) != count:
                duplicates += int(count) - len(inserted)
                keys = json.dumps([[row["trace_id"], row["span_id"]] for row in inserted])
                new.extend(row["trace_id"] + row["span_id"] for row in inserted)
            self.sql.exec(_TRACES, ids, now_ms)
            if databases:  # only chunks with database spans can hold N+1 repeats
                self.sql.exec(_REPEATS, ids, REPEAT_FLOOR)
            edges.extend(list(row.values()) for row in self.sql.exec(_EDGES, keys, first))
        dropped = self._drop_late_spans_of_dropped_traces([chunk[1] for chunk in chunks])
        return {"duplicates": duplicates, "new": new, "edges": edges, "dropped": dropped}

    def _insert_rows(self, rows: list[list[Any]]) -> list[dict[str, Any]]:
        """Insert rows not stored yet; answers the `trace_id, span_id` of those inserted."""
        inserted: list[dict[str, Any]] = []
        for start in range(0, len(rows), ROWS_PER_INSERT):
            part = rows[start : start + ROWS_PER_INSERT]
            values = [value for row in part for value in row]
            inserted += self.sql.exec(_INSERTS[len(part)], *values).toArray()
        return inserted

    def _drop_late_spans_of_dropped_traces(self, chunks: list[str]) -> int:
        if not self.sql.exec("SELECT 1 FROM traces WHERE decision = 0 LIMIT 1").toArray():
            return 0
        dropped = 0
        for chunk in chunks:
            dropped += self.sql.exec(
                "DELETE FROM spans WHERE trace_id IN (SELECT trace_id FROM traces"
                " WHERE decision = 0 AND trace_id IN (SELECT value->>0 FROM json_each(?)))",
                chunk,
            ).rowsWritten
        return dropped

    # --- reads ------------------------------------------------------------------------------
    def trace(self, trace_id: str) -> dict[str, Any] | None:
        summary = self.sql.exec("SELECT * FROM traces WHERE trace_id = ?", trace_id).toArray()
        spans = self.sql.exec(
            "SELECT s.*, r.attributes AS resource FROM spans AS s LEFT JOIN resources AS r"
            " ON r.id = s.resource_id WHERE s.trace_id = ?",
            trace_id,
        ).toArray()
        if not summary and not spans:
            return None
        return {"summary": summary[0] if summary else None, "spans": spans}

    def search(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Traces matching `query` (see `search.py`), newest first, after the cursor."""
        where = ["t.start_ns >= ?", "t.start_ns < ?", "(t.decision IS NULL OR t.decision = 1)"]
        params: list[Any] = [query["since_ns"], query["until_ns"]]
        if query.get("after"):
            where.append("(t.start_ns < ? OR (t.start_ns = ? AND t.trace_id < ?))")
            start, trace_id = query["after"]
            params += [start, start, trace_id]
        if query.get("service"):
            where.append("instr(t.services, ?) > 0")
            params.append(f",{query['service']},")
        conditions, span_params = _span_conditions(query, "s")
        if conditions:
            hot = "EXISTS (SELECT 1 FROM spans AS s WHERE s.trace_id = t.trace_id AND {})"
            if query.get("attributes"):  # archived attributes are in R2 only: hot spans
                where.append(hot.format(" AND ".join(conditions)))
                params += span_params
            else:  # a hot span, or the facts kept of an archived trace's spans
                facts, fact_params = _span_conditions(query, "f")
                archived = (
                    "t.archive IS NOT NULL AND EXISTS (SELECT 1 FROM archived_facts AS f"
                    " WHERE f.trace_id = t.trace_id AND {})"
                )
                where.append(
                    f"({hot.format(' AND '.join(conditions))}"
                    f" OR ({archived.format(' AND '.join(facts))}))"
                )
                params += span_params + fact_params
        found: list[dict[str, Any]] = self.sql.exec(
            "SELECT t.trace_id, t.start_ns, t.end_ns, t.span_count, t.error_count, t.services,"  # noqa: S608
            " t.root_service, t.root_name, t.root_route FROM traces AS t WHERE "
            + " AND ".join(where)
            + " ORDER BY t.start_ns DESC, t.trace_id DESC LIMIT ?",
            *params,
            int(query["limit"]),
        ).toArray()
        return found

    def repeats(self, since_ns: int, until_ns: int, minimum: int, limit: int) -> list[Any]:
        found: list[Any] = self.sql.exec(
            "SELECT trace_id, fingerprint, db_system, service, count, total_ns, start_ns"
            " FROM repeats WHERE start_ns >= ? AND start_ns < ? AND count >= ?"
            " ORDER BY count DESC, start_ns DESC LIMIT ?",
            since_ns,
            until_ns,
            minimum,
            limit,
        ).toArray()
        return found

    # --- tail sampling and retention --------------------------------------------------------
    def pending(self, quiet_before_ms: int, limit: int) -> list[dict[str, Any]]:
        """Undecided traces that received nothing since `quiet_before_ms`."""
        found: list[dict[str, Any]] = self.sql.exec(
            "SELECT trace_id, start_ns, end_ns, error_count FROM traces"
            " WHERE decision IS NULL AND updated_ms < ? LIMIT ?",
            quiet_before_ms,
            limit,
        ).toArray()
        return found

    def decide(self, keep: list[str], drop: list[str]) -> int:
        """Record sampling decisions; the spans of dropped traces are deleted."""
        for decision, ids in ((1, keep), (0, drop)):
            if ids:
                self.sql.exec(
                    "UPDATE traces SET decision = ? WHERE trace_id IN"
                    " (SELECT value FROM json_each(?))",
                    decision,
                    json.dumps(ids),
                )
        if not drop:
            return 0
        return int(
            self.sql.exec(
                "DELETE FROM spans WHERE trace_id IN (SELECT value FROM json_each(?))",
                json.dumps(drop),
            ).rowsWritten
        )

    def expiring(self, before_ns: int, limit: int) -> list[dict[str, Any]]:
        """Hot spans of traces that started before `before_ns` (to archive), oldest first."""
        ids = self.sql.exec(
            "SELECT trace_id FROM traces WHERE start_ns < ? AND archive IS NULL"
            " AND (decision IS NULL OR decision = 1) ORDER BY start_ns LIMIT ?",
            before_ns,
            limit,
        ).toArray()
        if not ids:
            return []
        return self.sql.exec(
            "SELECT s.*, r.attributes AS resource FROM spans AS s LEFT JOIN resources AS r"
            " ON r.id = s.resource_id WHERE s.trace_id IN (SELECT value FROM json_each(?))",
            json.dumps([row["trace_id"] for row in ids]),
        ).toArray() or [{"trace_id": row["trace_id"]} for row in ids]

    def archived(self, keys: dict[str, str]) -> int:
        """Mark traces as archived under R2 keys and delete their hot spans."""
        pairs = json.dumps([[trace_id, key] for trace_id, key in keys.items()])
        self.sql.exec(_FACTS, pairs)
        self.sql.exec(
            "UPDATE traces SET archive = (SELECT value->>1 FROM json_each(?1)"
            " WHERE value->>0 = traces.trace_id) WHERE trace_id IN"
            " (SELECT value->>0 FROM json_each(?1))",
            pairs,
        )
        return int(
            self.sql.exec(
                "DELETE FROM spans WHERE trace_id IN (SELECT value->>0 FROM json_each(?))", pairs
            ).rowsWritten
        )

    def forget(self, before_ns: int, dropped_before_ms: int) -> dict[str, int]:
        """Drop trace rows past the archive retention, and old drop decisions."""
        traces = self.sql.exec("DELETE FROM traces WHERE start_ns < ?", before_ns).rowsWritten
        dropped = self.sql.exec(
            "DELETE FROM traces WHERE decision = 0 AND updated_ms < ?", dropped_before_ms
        ).rowsWritten
        repeats = self.sql.exec("DELETE FROM repeats WHERE start_ns < ?", before_ns).rowsWritten
        self.sql.exec("DELETE FROM archived_facts WHERE start_ns < ?", before_ns)
        self.sql.exec(
            "DELETE FROM resources WHERE id NOT IN (SELECT DISTINCT resource_id FROM spans)"
        )
        self._resources.clear()
        return {"traces": traces + dropped, "repeats": repeats}

    def counts(self) -> dict[str, int]:
        spans = self.sql.exec("SELECT count(*) AS n FROM spans").one()["n"]
        traces = self.sql.exec("SELECT count(*) AS n FROM traces").one()["n"]
        return {"spans": int(spans), "traces": int(traces)}


def _span_conditions(query: dict[str, Any], table: str) -> tuple[list[str], list[Any]]:
    """Conditions one span must meet, on `spans` (alias `s`) or `archived_facts` (`f`, which
    has no attributes: the caller leaves those to hot spans)."""
    conditions: list[str] = []
    params: list[Any] = []
    for column in ("service", "route"):
        if query.get(column):
            conditions.append(f"{table}.{column} = ?")
            params.append(query[column])
    if query.get("error"):
        conditions.append(f"{table}.error = 1")
    if query.get("min_duration_ns"):
        duration = "s.end_ns - s.start_ns" if table == "s" else "f.duration_ns"
        conditions.append(f"{duration} >= ?")
        params.append(int(query["min_duration_ns"]))
    if table == "s":
        for key, values in (query.get("attributes") or {}).items():
            path = '$."' + key.replace('"', '""') + '"'
            marks = ", ".join("?" for _ in values)
            conditions.append(f"json_extract(s.attributes, ?) IN ({marks})")
            params += [path, *values]
    return conditions, params
