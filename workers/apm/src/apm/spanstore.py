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

from apm.rows import COLUMNS, ROW_WIDTH, TEXT_COLUMNS, TEXT_SEPARATOR

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
    n: "INSERT OR IGNORE INTO spans ({}) VALUES {} RETURNING rowid".format(  # noqa: S608
        ", ".join(COLUMNS), ", ".join([_VALUES] * n)
    )
    for n in range(1, ROWS_PER_INSERT + 1)
}
# Per-trace summaries, merged into what earlier exports of the trace stored (late spans add to
# the counts; an archived trace's earlier spans are no longer here to be counted again).
_TRACE_COLUMNS = 10
_TRACE_VALUES = "(" + ", ".join("?" for _ in range(_TRACE_COLUMNS)) + ")"
TRACES_PER_UPSERT = 100 // _TRACE_COLUMNS
_UPSERT = (
    "INSERT INTO traces (trace_id, start_ns, end_ns, span_count, error_count, services,"
    " root_service, root_name, root_route, updated_ms) VALUES {}"
    " ON CONFLICT (trace_id) DO UPDATE SET start_ns = min(start_ns, excluded.start_ns),"
    " end_ns = max(end_ns, excluded.end_ns), span_count = span_count + excluded.span_count,"
    " error_count = error_count + excluded.error_count, services = excluded.services,"
    " root_service = coalesce(excluded.root_service, root_service),"
    " root_name = coalesce(excluded.root_name, root_name),"
    " root_route = coalesce(excluded.root_route, root_route), updated_ms = excluded.updated_ms"
)
_UPSERTS = {
    n: _UPSERT.format(", ".join([_TRACE_VALUES] * n))  # constant text: every value is bound
    for n in range(1, TRACES_PER_UPSERT + 1)
}
# Cross-service parent -> child pairs a chunk completes, besides those whose parent and child
# both came in it (found in Python): a new child whose parent was stored before (`?1`: those
# children's [trace, span] ids), and an older child (rowid before `?2`, the chunk's first)
# whose parent just arrived (`?3`: the chunk's trace ids).
_EDGES_TO_OLD_PARENTS = (
    "SELECT p.service AS caller, c.service AS callee, c.start_ns, c.end_ns, c.error, c.trace_id,"
    " c.span_id FROM json_each(?1) AS n"
    " JOIN spans AS c ON c.trace_id = n.value->>0 AND c.span_id = n.value->>1"
    " JOIN spans AS p ON p.trace_id = c.trace_id AND p.span_id = c.parent_id"
    " WHERE p.service != c.service"
)
_EDGES_FROM_NEW_PARENTS = (
    "SELECT p.service AS caller, c.service AS callee, c.start_ns, c.end_ns, c.error,"
    " c.trace_id, c.span_id FROM spans AS c"
    " JOIN spans AS p ON p.trace_id = c.trace_id AND p.span_id = c.parent_id"
    " WHERE c.trace_id IN (SELECT value->>0 FROM json_each(?1)) AND c.rowid < ?2"
    " AND p.rowid >= ?2 AND c.parent_id != '' AND p.service != c.service"
)
# Repeats of traces that had spans stored before this chunk: counted over everything stored.
_REPEATS = (
    "INSERT OR REPLACE INTO repeats (trace_id, fingerprint, db_system, service, count,"
    " total_ns, start_ns) SELECT trace_id, fingerprint, max(db_system), max(service), count(*),"
    " sum(end_ns - start_ns), min(start_ns) FROM spans WHERE trace_id IN"
    " (SELECT value FROM json_each(?1)) AND fingerprint != ''"
    " GROUP BY trace_id, fingerprint HAVING count(*) >= ?2"
)
# Repeats of traces first seen in this chunk, counted from its rows.
_REPEAT_COLUMNS = 7
REPEATS_PER_INSERT = 100 // _REPEAT_COLUMNS
_REPEAT_VALUES = "(" + ", ".join("?" for _ in range(_REPEAT_COLUMNS)) + ")"
_REPEAT_INSERT = (
    "INSERT OR REPLACE INTO repeats (trace_id, fingerprint, db_system, service, count,"
    " total_ns, start_ns) VALUES {}"
)
_REPEAT_INSERTS = {
    n: _REPEAT_INSERT.format(", ".join([_REPEAT_VALUES] * n))  # constant text, values bound
    for n in range(1, REPEATS_PER_INSERT + 1)
}


def _join_texts(rows: list[list[Any]], packed: str) -> None:
    """Complete each row with its `TEXT_COLUMNS` JSON texts, in order."""
    texts = packed.split(TEXT_SEPARATOR)
    if len(texts) != len(rows) * TEXT_COLUMNS:
        raise ValueError(f"{len(texts)} JSON texts for {len(rows)} rows")
    for index, row in enumerate(rows):
        row += texts[index * TEXT_COLUMNS : (index + 1) * TEXT_COLUMNS]


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
        """Store `[rows_json, ids_json, count, has_db, texts]` chunks (`ids`: `[trace, span,
        is_db]`; `texts`: the rows' JSON columns, `TEXT_SEPARATOR`-joined, the rows holding the
        other columns; without it, as a Worker deployed before it sends, the rows are whole).

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
        for text, ids, count, databases, *packed in chunks:
            rows = json.loads(text)
            if packed:
                _join_texts(rows, packed[0])
            inserted = self._insert_rows(rows)
            if not inserted:  # an export retried whole: nothing new to derive
                duplicates += int(count)
                continue
            first = min(inserted)  # rows before it were stored before
            fresh = rows  # the usual case: every row was new
            if len(inserted) != count:
                duplicates += int(count) - len(inserted)
                keys = self._keys(inserted)
                new.extend(keys)
                fresh = _first_of_each(rows, keys)
            earlier = self._upsert_traces(fresh, now_ms)
            if databases:  # only chunks with database spans can hold N+1 repeats
                self._repeats(fresh, earlier)
            edges += self._edges(fresh, rows, ids, first)
        dropped = self._drop_late_spans_of_dropped_traces([chunk[1] for chunk in chunks])
        return {"duplicates": duplicates, "new": new, "edges": edges, "dropped": dropped}

    def _repeats(self, fresh: list[list[Any]], earlier: set[str]) -> None:
        """Store (trace, fingerprint) pairs repeated at least `REPEAT_FLOOR` times."""
        pairs: dict[tuple[str, str], list[Any]] = {}
        again: set[str] = set()
        for trace_id, _, _, _, _, service, _, start, end, _, _, print_, system, *_ in fresh:
            if not print_:
                continue
            if trace_id in earlier:
                again.add(trace_id)
                continue
            pair = pairs.get((trace_id, print_))
            if pair is None:  # db_system, service, count, total_ns, start_ns (as SQL would)
                pairs[(trace_id, print_)] = [system, service, 1, end - start, start]
            else:
                pair[0], pair[1] = max(pair[0], system), max(pair[1], service)
                pair[2] += 1
                pair[3] += end - start
                pair[4] = min(pair[4], start)
        values = [[*key, *pair] for key, pair in pairs.items() if pair[2] >= REPEAT_FLOOR]
        for start in range(0, len(values), REPEATS_PER_INSERT):
            part = values[start : start + REPEATS_PER_INSERT]
            self.sql.exec(_REPEAT_INSERTS[len(part)], *[value for row in part for value in row])
        if again:
            self.sql.exec(_REPEATS, json.dumps(sorted(again)), REPEAT_FLOOR)

    def _upsert_traces(self, rows: list[list[Any]], now_ms: int) -> set[str]:
        """Add new rows (`COLUMNS` order) to the summaries of their traces; answers the
        traces that were stored before."""
        found: dict[str, list[Any]] = {}
        for trace_id, _, parent, name, _, service, route, start, end, _, error, *_ in rows:
            summary = found.get(trace_id)
            if summary is None:  # start, end, spans, errors, services, root service/name/route
                summary = found[trace_id] = [start, end, 0, 0, {}, None, None, None]
            summary[0], summary[1] = min(summary[0], start), max(summary[1], end)
            summary[2] += 1
            summary[3] += error
            summary[4][service] = True
            if not parent:
                summary[5:8] = service, name, route
        if not found:
            return set()
        stored = self.sql.exec(
            "SELECT trace_id, services FROM traces WHERE trace_id IN"
            " (SELECT value FROM json_each(?))",
            json.dumps(list(found)),
        )
        earlier_traces = set()
        for row in stored:  # services of earlier exports first, in their order
            earlier = dict.fromkeys(s for s in str(row["services"]).split(",") if s)
            found[row["trace_id"]][4] = earlier | found[row["trace_id"]][4]
            earlier_traces.add(row["trace_id"])
        values = [
            [trace_id, *summary[:4], "," + ",".join(summary[4]) + ",", *summary[5:], now_ms]
            for trace_id, summary in found.items()
        ]
        for start in range(0, len(values), TRACES_PER_UPSERT):
            part = values[start : start + TRACES_PER_UPSERT]
            self.sql.exec(_UPSERTS[len(part)], *[value for row in part for value in row])
        return earlier_traces

    def _edges(
        self, fresh: list[list[Any]], rows: list[list[Any]], ids: str, first: int
    ) -> list[list[Any]]:
        """Cross-service `[caller, callee, start, end, error, trace, span]` the chunk completes."""
        services = {(row[0], row[1]): row[5] for row in rows}
        edges: list[list[Any]] = []
        parent_stored_before: list[list[str]] = []
        for trace_id, span_id, parent, _, _, service, _, start, end, _, error, *_ in fresh:
            if not parent:
                continue
            caller = services.get((trace_id, parent))
            if caller is None:
                parent_stored_before.append([trace_id, span_id])
            elif caller != service:
                edges.append([caller, service, start, end, error, trace_id, span_id])
        if parent_stored_before:
            found = self.sql.exec(_EDGES_TO_OLD_PARENTS, json.dumps(parent_stored_before))
            edges += [list(row.values()) for row in found]
        edges += [list(row.values()) for row in self.sql.exec(_EDGES_FROM_NEW_PARENTS, ids, first)]
        return edges

    def _insert_rows(self, rows: list[list[Any]]) -> list[int]:
        """Insert rows not stored yet; answers the rowids of those inserted (only ids: most
        exports are new, and their ids are in `rows` already)."""
        inserted: list[int] = []
        for start in range(0, len(rows), ROWS_PER_INSERT):
            part = rows[start : start + ROWS_PER_INSERT]
            values = [value for row in part for value in row]
            inserted += [found[0] for found in self.sql.exec(_INSERTS[len(part)], *values).raw()]
        return inserted

    def _keys(self, rowids: list[int]) -> set[str]:
        """`trace_id + span_id` of the rows stored under `rowids` (an export partly retried)."""
        found = self.sql.exec(
            "SELECT trace_id || span_id FROM spans WHERE rowid IN (SELECT value FROM json_each(?))",
            json.dumps(rowids),
        )
        return {row[0] for row in found.raw()}

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


def _first_of_each(rows: list[list[Any]], keys: set[str]) -> list[list[Any]]:
    """The rows whose `trace+span` is in `keys`, each once (an export may repeat a span)."""
    out, seen = [], set()
    for row in rows:
        key = row[0] + row[1]
        if key in keys and key not in seen:
            seen.add(key)
            out.append(row)
    return out
