"""One shard's side of archiving: rows grouped into parts, parts marked uploaded, rows expired.

Idempotent by construction. A part (`batches` row) is a fixed set of rows of one hour, assigned
once; its R2 object key names the part, so writing it again after a crash writes the same
object. Rows are deleted only when their part is marked uploaded and they are older than the
hot retention. Rows arriving late for an hour already archived become a new part of that hour:
nothing is lost, nothing is written twice.

No index tracks unarchived rows (it would cost every insert): the watermark `archived_to` says
every hour before it was assigned, inserts note hours that get rows behind the watermark
(`late`), and each hour is assigned by walking its row-id range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from logs.store.schema import COLUMNS, ID_SCALE
from logs.store.sqlapi import Sql

HOUR_MS = 3600_000
PART_ROWS = 10_000  # one part is read into memory whole: keep it well under 128 MB


@dataclass(frozen=True)
class Part:
    id: int
    hour: int  # hours since the epoch
    rows: int
    lo: int  # first and last row id
    hi: int


class ShardArchive:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def assign(self, closed_before_ms: int, part_rows: int = PART_ROWS) -> int:
        """Group the unassigned rows of closed hours (before `closed_before_ms`) into parts."""
        closed_hour = closed_before_ms // HOUR_MS
        created = 0
        late = self.sql.exec("SELECT hour FROM late WHERE hour < ? ORDER BY hour", closed_hour)
        for row in late.toArray():
            created += self._assign_hour(row["hour"], part_rows)
            self.sql.exec("DELETE FROM late WHERE hour = ?", row["hour"])
        watermark = self._watermark()
        bound = closed_hour * HOUR_MS * ID_SCALE
        cursor = watermark * ID_SCALE
        while cursor < bound:
            first = self.sql.exec(
                "SELECT min(id) AS id FROM logs WHERE id >= ? AND id < ?", cursor, bound
            ).one()["id"]
            if first is None:
                break
            hour = first // ID_SCALE // HOUR_MS
            created += self._assign_hour(hour, part_rows)
            cursor = (hour + 1) * HOUR_MS * ID_SCALE
        if closed_hour * HOUR_MS > watermark:
            self.sql.exec(
                "INSERT INTO meta (key, value) VALUES ('archived_to', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                closed_hour * HOUR_MS,
            )
        return created

    def _assign_hour(self, hour: int, part_rows: int) -> int:
        """Parts of at most `part_rows` for the unassigned rows of one hour."""
        lo, hi = hour * HOUR_MS * ID_SCALE, (hour + 1) * HOUR_MS * ID_SCALE
        created = 0
        while True:
            part = self.sql.exec(
                "INSERT INTO batches (hour, rows) VALUES (?, 0) RETURNING id", hour
            ).one()["id"]
            self.sql.exec(
                "UPDATE logs SET batch = ?1 WHERE id IN (SELECT id FROM logs WHERE id >= ?2"
                " AND id < ?3 AND batch IS NULL ORDER BY id LIMIT ?4)",
                part,
                lo,
                hi,
                part_rows,
            )
            count = int(self.sql.exec("SELECT changes() AS n").one()["n"])
            if count == 0:
                self.sql.exec("DELETE FROM batches WHERE id = ?", part)
                return created
            last = self.sql.exec(
                "UPDATE batches SET (rows, lo, hi) = (SELECT count(*), min(id), max(id) FROM logs"
                " WHERE batch = ?1 AND id >= ?2 AND id < ?3) WHERE id = ?1 RETURNING hi",
                part,
                lo,
                hi,
            ).one()["hi"]
            created += 1
            if count < part_rows:
                return created
            lo = last + 1

    def _watermark(self) -> int:
        rows = self.sql.exec("SELECT value FROM meta WHERE key = 'archived_to'").toArray()
        return int(rows[0]["value"]) if rows else 0

    def pending(self) -> list[Part]:
        rows = self.sql.exec(
            "SELECT id, hour, rows, lo, hi FROM batches WHERE uploaded = 0 ORDER BY id"
        ).toArray()
        return [Part(r["id"], r["hour"], r["rows"], r["lo"], r["hi"]) for r in rows]

    def rows_of(self, part: Part) -> list[list[Any]]:
        query = f"SELECT {COLUMNS} FROM logs WHERE id >= ? AND id <= ? AND batch = ? ORDER BY id"  # noqa: S608
        return [list(r.values()) for r in self.sql.exec(query, part.lo, part.hi, part.id).toArray()]

    def uploaded(self, part: Part, key: str) -> None:
        self.sql.exec("UPDATE batches SET uploaded = 1, object = ? WHERE id = ?", key, part.id)

    def expire(self, cutoff_ms: int, stats_cutoff_ms: int) -> int:
        """Delete archived rows older than `cutoff_ms` (unarchived rows wait for their part)."""
        self.sql.exec(
            "DELETE FROM logs WHERE id < ?"
            " AND batch IN (SELECT id FROM batches WHERE uploaded = 1)",
            cutoff_ms * ID_SCALE,
        )
        deleted = int(self.sql.exec("SELECT changes() AS n").one()["n"])
        self.sql.exec("DELETE FROM batches WHERE uploaded = 1 AND hi < ?", cutoff_ms * ID_SCALE)
        self.sql.exec("DELETE FROM stats WHERE minute < ?", stats_cutoff_ms // 60000)
        return deleted

    def has_rows(self) -> bool:
        return bool(self.sql.exec("SELECT EXISTS (SELECT 1 FROM logs) AS n").one()["n"])

    def counts(self) -> dict[str, int]:
        row = self.sql.exec(
            "SELECT (SELECT count(*) FROM logs) AS records,"
            " (SELECT count(*) FROM logs WHERE batch IS NULL) AS unarchived,"
            " (SELECT count(*) FROM batches WHERE uploaded = 0) AS pending"
        ).one()
        return {key: int(value) for key, value in row.items()}
