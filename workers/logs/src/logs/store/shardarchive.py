"""One shard's side of archiving: rows grouped into parts, parts marked uploaded, rows expired.

Idempotent by construction. A part (`batches` row) is a fixed set of rows of one hour, assigned
once; its R2 object key names the part, so writing it again after a crash writes the same
object. Rows are deleted only when their part is marked uploaded and they are older than the
hot retention. Rows arriving late for an hour already archived become a new part of that hour:
nothing is lost, nothing is written twice.
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
        """Group the unarchived rows of closed hours (before `closed_before_ms`) into parts."""
        created = 0
        bound = closed_before_ms * ID_SCALE
        while True:
            first = self.sql.exec(
                "SELECT id FROM logs WHERE batch IS NULL AND id < ? ORDER BY id LIMIT 1", bound
            ).toArray()
            if not first:
                return created
            hour = (first[0]["id"] // ID_SCALE) // HOUR_MS
            hour_end = min(bound, (hour + 1) * HOUR_MS * ID_SCALE)
            part = self.sql.exec(
                "INSERT INTO batches (hour, rows) VALUES (?, 0) RETURNING id", hour
            ).one()["id"]
            self.sql.exec(
                "UPDATE logs SET batch = ?1 WHERE id IN (SELECT id FROM logs WHERE batch IS NULL"
                " AND id >= ?2 AND id < ?3 ORDER BY id LIMIT ?4)",
                part,
                first[0]["id"],
                hour_end,
                part_rows,
            )
            self.sql.exec(
                "UPDATE batches SET (rows, lo, hi) = (SELECT count(*), min(id), max(id) FROM logs"
                " WHERE batch = ?1 AND id >= ?2 AND id < ?3) WHERE id = ?1",
                part,
                first[0]["id"],
                hour_end,
            )
            created += 1

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
