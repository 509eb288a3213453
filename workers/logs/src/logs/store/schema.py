"""The SQLite schema of one LogShard Durable Object.

Row ids carry time: `id = ts_ms * 2**20 + n`, so the table's own order is time order. Newest
first is a backwards walk of the primary key, a time window is a rowid range, and FTS5 (whose
rowids are these ids) answers "newest 100 matches" by walking its posting lists backwards and
stopping at 100, with no sort. Partial indexes cover the rare rows the common filters want
(warnings and worse, errors and worse): each index costs only the rows it holds, and their
keys are row ids, so new entries land at the end. A service filter has no index: it is checked
row by row on the newest-first walk, which stops at `limit` (an index on (service, id) would
cost an index page write per record at insert).

The full-text index covers messages, and trace ids in a column of their own. Trace ids are
random: in a B-tree index every batch's ids land on pages all over it, and a commit rewrote
most of them (more as the shard grows); FTS5 writes each batch's terms as one new segment and
merges segments in the background, so a trace id costs what a word costs. Searches name the
message column (`message : (...)`), so a word never matches a trace id.
Attributes are searched with `attr.<key>=<value>`.
"""

from __future__ import annotations

from logs.store.sqlapi import Sql

ID_SHIFT = 20  # up to 2**20 records per millisecond per shard
ID_SCALE = 1 << ID_SHIFT

# External content: the index keeps no second copy of the text.
FULL_TEXT = (
    """CREATE VIRTUAL TABLE IF NOT EXISTS logs_fts USING fts5 (
        message, trace_id, content = 'logs', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER IF NOT EXISTS logs_fts_insert AFTER INSERT ON logs BEGIN
        INSERT INTO logs_fts (rowid, message, trace_id)
        VALUES (new.id, new.message, new.trace_id);
    END""",
    """CREATE TRIGGER IF NOT EXISTS logs_fts_delete AFTER DELETE ON logs BEGIN
        INSERT INTO logs_fts (logs_fts, rowid, message, trace_id)
        VALUES ('delete', old.id, old.message, old.trace_id);
    END""",
)
# Shards written before trace ids moved into the full-text index (schema 1) are rebuilt once.
OLD_LAYOUT = (
    "DROP TRIGGER IF EXISTS logs_fts_insert",
    "DROP TRIGGER IF EXISTS logs_fts_delete",
    "DROP TABLE IF EXISTS logs_fts",
    "DROP INDEX IF EXISTS logs_trace",
)
REBUILD = "INSERT INTO logs_fts (logs_fts) VALUES ('rebuild')"

STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS logs (
        id INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        received INTEGER NOT NULL,
        level INTEGER NOT NULL,
        service TEXT NOT NULL,
        trace_id TEXT,
        span_id TEXT,
        fingerprint TEXT NOT NULL,
        message TEXT NOT NULL,
        attributes TEXT,
        source TEXT NOT NULL,
        edge TEXT NOT NULL,
        batch INTEGER
    )""",
    "CREATE INDEX IF NOT EXISTS logs_warning ON logs (id) WHERE level >= 4",
    "CREATE INDEX IF NOT EXISTS logs_error ON logs (id) WHERE level >= 5",
    *FULL_TEXT,
    # Counts per minute, level and service: stats and snapshots without scanning records.
    """CREATE TABLE IF NOT EXISTS stats (
        minute INTEGER NOT NULL, level INTEGER NOT NULL, service TEXT NOT NULL,
        count INTEGER NOT NULL, PRIMARY KEY (minute, level, service)
    ) WITHOUT ROWID""",
    # Archive parts: rows of one hour, written to R2 as one object each.
    """CREATE TABLE IF NOT EXISTS batches (
        id INTEGER PRIMARY KEY, hour INTEGER NOT NULL, rows INTEGER NOT NULL,
        lo INTEGER, hi INTEGER, uploaded INTEGER NOT NULL DEFAULT 0, object TEXT
    )""",
    # Hours that received rows after they were archived (see `shardarchive`).
    "CREATE TABLE IF NOT EXISTS late (hour INTEGER PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
)

COLUMNS = (
    "id, ts, received, level, service, trace_id, span_id, fingerprint, message, attributes, "
    "source, edge"
)


def create(sql: Sql) -> None:
    """Create what is missing (idempotent: every instance runs it once)."""
    for statement in STATEMENTS:
        sql.exec(statement)
    if sql.exec(_OLD_INDEX).toArray():
        for statement in (*OLD_LAYOUT, *FULL_TEXT, REBUILD):
            sql.exec(statement)


def trace_match(trace_id: str) -> str:
    """The FTS5 expression for the records of one trace (an FTS5 string: inert text)."""
    return 'trace_id : "' + trace_id.replace('"', '""') + '"'


_OLD_INDEX = "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'logs_trace'"
