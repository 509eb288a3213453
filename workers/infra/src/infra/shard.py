"""One time-series shard: the pure core behind the `MetricsShard` Durable Object.

Storage (DO SQLite):
- `head(series, minute, value)`: samples of hours not yet compacted, one row per minute.
- `chunks(series, hour, data)`: one `codec` chunk per series per hour (60 minute slots),
  kept for `MINUTE_RETENTION_DAYS`.
- `rollups(series, day, data)`: per series per day, 24 hourly slots of count/sum/min/max, kept
  for `ROLLUP_RETENTION_DAYS`.

Times are epoch minutes, hours and days (small integers store small). Writes within one event
are committed together by the runtime, so a batch is stored whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra import codec, rollup
from infra.samples import from_row
from infra.series import Catalog, Series, SeriesLimitError, merge

MINUTE_MS = 60_000
MINUTE_RETENTION_DAYS = 7
ROLLUP_RETENTION_DAYS = 90
FUTURE_TOLERANCE_MS = 10 * MINUTE_MS
COMPACT_GRACE_MS = 5 * MINUTE_MS  # late samples of the last hour still land in head
MAX_SERIES = 50_000
COMPACT_ROWS = 60_000  # head rows handled per compaction call; the rest wait for the next
ROWS_PER_INSERT = 33  # 3 parameters a row, under the 100-parameter limit per statement
IN_BATCH = 90

SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, labels TEXT NOT NULL, family TEXT NOT NULL,
  kind TEXT NOT NULL, role TEXT NOT NULL, agg TEXT NOT NULL, le REAL, unit TEXT NOT NULL,
  first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL,
  raw REAL, raw_start INTEGER, raw_ms INTEGER, UNIQUE (name, labels));
CREATE TABLE IF NOT EXISTS head (series INTEGER NOT NULL, minute INTEGER NOT NULL,
  value REAL NOT NULL, PRIMARY KEY (series, minute)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunks (series INTEGER NOT NULL, hour INTEGER NOT NULL,
  data BLOB NOT NULL, PRIMARY KEY (series, hour)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollups (series INTEGER NOT NULL, day INTEGER NOT NULL,
  data BLOB NOT NULL, PRIMARY KEY (series, day)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_UPSERT = {
    "sum": "value + excluded.value",
    "last": "excluded.value",
    "max": "max(value, excluded.value)",
    "min": "min(value, excluded.value)",
}


@dataclass
class IngestResult:
    accepted: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def reject(self, count: int, reason: str) -> None:
        self.rejected += count
        if reason not in self.errors and len(self.errors) < 10:
            self.errors.append(reason)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "rejected": self.rejected, "errors": self.errors}


class ShardCore:
    def __init__(self, sql: Any, *, max_series: int = MAX_SERIES) -> None:
        self.sql = sql
        sql.exec(SCHEMA)
        self.catalog = Catalog(sql, max_series)

    # --- writes -------------------------------------------------------------------------------
    def ingest(self, entries: Iterable[Mapping[str, Any]], now_ms: int) -> IngestResult:
        """Store series entries `{n, l, f, k, r, a, le?, u?, c?, p: [[t_ms, start_ms, v]]}`."""
        result = IngestResult()
        oldest = now_ms - MINUTE_RETENTION_DAYS * 86_400_000
        pending: dict[str, dict[tuple[int, int], float]] = {agg: {} for agg in ("sum", "last")}
        pending.update(max={}, min={})
        touched: list[Series] = []
        self.catalog.created.clear()
        for entry in entries:
            points = entry.get("p") or []
            try:
                series = self.catalog.get_or_create(entry, now_ms)
            except SeriesLimitError as error:
                result.reject(len(points), str(error))
                continue
            touched.append(series)
            fold = pending[series.agg]
            for t_ms, start_ms, value in points if len(points) < 2 else sorted(points):
                if t_ms < oldest or t_ms > now_ms + FUTURE_TOLERANCE_MS:
                    result.reject(1, "timestamp outside the 7-day window (or in the future)")
                    continue
                if entry.get("c"):
                    known = series.raw is None and self.catalog.follows_stream(entry, start_ms)
                    delta = series.increment(int(t_ms), int(start_ms or 0), float(value), known)
                    if delta is None:
                        result.reject(1, "cumulative sample older than the last one")
                        continue
                    value = delta
                key = (series.id, int(t_ms) // MINUTE_MS)
                fold[key] = merge(series.agg, fold.get(key), float(value))
                if t_ms - series.last_ms >= MINUTE_MS:
                    series.last_ms, series.dirty = int(t_ms), True
                result.accepted += 1
        for agg, rows in pending.items():
            self._write_head(agg, rows)
        self.catalog.save_dirty(touched)
        return result

    def _write_head(self, agg: str, rows: Mapping[tuple[int, int], float]) -> None:
        items = [(sid, minute, value) for (sid, minute), value in rows.items()]
        for start in range(0, len(items), ROWS_PER_INSERT):
            batch = items[start : start + ROWS_PER_INSERT]
            values = ",".join("(?, ?, ?)" for _ in batch)
            params = [x for row in batch for x in row]
            self.sql.exec(
                # Only placeholders and a constant expression go into the text.
                f"INSERT INTO head (series, minute, value) VALUES {values} "  # noqa: S608
                f"ON CONFLICT (series, minute) DO UPDATE SET value = {_UPSERT[agg]}",
                *params,
            )

    # --- compaction and retention -------------------------------------------------------------
    def compact(self, now_ms: int) -> int:
        """Encode complete hours of head into chunks and rollups; returns chunks written."""
        cutoff_hour = (now_ms - COMPACT_GRACE_MS) // 3_600_000
        rows = self.sql.exec(
            "SELECT series, minute, value FROM head WHERE minute < ? "
            "ORDER BY series, minute LIMIT ?",
            cutoff_hour * 60,
            COMPACT_ROWS,
        ).toArray()
        groups: dict[tuple[int, int], list[tuple[int, float]]] = {}
        for row in rows:
            groups.setdefault((row["series"], row["minute"] // 60), []).append(
                (row["minute"] % 60, row["value"])
            )
        if len(rows) == COMPACT_ROWS and groups:
            groups.pop(next(reversed(groups)))  # possibly cut short: the next call redoes it
        for (series_id, hour), minutes in groups.items():
            self._compact_hour(series_id, hour, minutes)
        if len(rows) < COMPACT_ROWS:
            self._set_meta("compacted_hour", str(cutoff_hour))
        return len(groups)

    def _compact_hour(self, series_id: int, hour: int, minutes: list[tuple[int, float]]) -> None:
        series = self.catalog.by_id.get(series_id)
        agg = series.agg if series else "last"
        found = self.sql.exec(
            "SELECT data FROM chunks WHERE series = ? AND hour = ?", series_id, hour
        ).toArray()
        slots = codec.decode(found[0]["data"]) if found else [None] * 60
        for slot, value in minutes:
            slots[slot] = merge(agg, slots[slot], value)
        self.sql.exec(
            "INSERT OR REPLACE INTO chunks (series, hour, data) VALUES (?, ?, ?)",
            series_id, hour, codec.encode(slots),
        )  # fmt: skip
        self._roll_up(series_id, hour, slots)
        self.sql.exec(
            "DELETE FROM head WHERE series = ? AND minute >= ? AND minute < ?",
            series_id, hour * 60, hour * 60 + 60,
        )  # fmt: skip

    def _roll_up(self, series_id: int, hour: int, slots: list[float | None]) -> None:
        day = hour // 24
        found = self.sql.exec(
            "SELECT data FROM rollups WHERE series = ? AND day = ?", series_id, day
        ).toArray()
        table = rollup.decode(found[0]["data"]) if found else rollup.empty()
        rollup.set_hour(table, hour % 24, [v for v in slots if v is not None])
        self.sql.exec(
            "INSERT OR REPLACE INTO rollups (series, day, data) VALUES (?, ?, ?)",
            series_id, day, rollup.encode(table),
        )  # fmt: skip

    def expire(self, now_ms: int) -> dict[str, int]:
        """Drop minute data past 7 days, rollups past 90, and series with nothing left."""
        minute_floor = (now_ms // 3_600_000) - MINUTE_RETENTION_DAYS * 24
        day_floor = now_ms // 86_400_000 - ROLLUP_RETENTION_DAYS
        chunks = self.sql.exec("DELETE FROM chunks WHERE hour < ?", minute_floor).rowsWritten
        self.sql.exec("DELETE FROM head WHERE minute < ?", minute_floor * 60)
        rollups = self.sql.exec("DELETE FROM rollups WHERE day < ?", day_floor).rowsWritten
        stale_ms = now_ms - ROLLUP_RETENTION_DAYS * 86_400_000
        gone = [s.id for s in self.catalog.by_id.values() if s.last_ms < stale_ms]
        self.catalog.forget(gone)
        return {"chunks": int(chunks), "rollups": int(rollups), "series": len(gone)}

    # --- reads --------------------------------------------------------------------------------
    def minutes(self, series: list[Series], first: int, last: int) -> dict[int, dict[int, float]]:
        """Per series id, minute -> value over epoch minutes [first, last]."""
        out: dict[int, dict[int, float]] = {s.id: {} for s in series}
        aggs = {s.id: s.agg for s in series}
        for ids in _batches([s.id for s in series]):
            marks = ",".join("?" * len(ids))
            for row in self.sql.exec(
                f"SELECT series, hour, data FROM chunks WHERE series IN ({marks}) "  # noqa: S608
                "AND hour >= ? AND hour <= ?",
                *ids, first // 60, last // 60,
            ):  # fmt: skip
                base, target = row["hour"] * 60, out[row["series"]]
                for slot, value in enumerate(codec.decode(row["data"])):
                    if value is not None and first <= base + slot <= last:
                        target[base + slot] = value
            for row in self.sql.exec(
                f"SELECT series, minute, value FROM head WHERE series IN ({marks}) "  # noqa: S608
                "AND minute >= ? AND minute <= ?",
                *ids, first, last,
            ):  # fmt: skip
                target = out[row["series"]]
                minute = row["minute"]
                target[minute] = merge(aggs[row["series"]], target.get(minute), row["value"])
        return out

    def hours(
        self, series: list[Series], first: int, last: int
    ) -> dict[int, dict[int, rollup.Stats]]:
        """Per series id, epoch hour -> (count, sum, min, max) over hours [first, last]."""
        out: dict[int, dict[int, rollup.Stats]] = {s.id: {} for s in series}
        compacted = int(self._meta("compacted_hour") or 0)
        for ids in _batches([s.id for s in series]):
            marks = ",".join("?" * len(ids))
            for row in self.sql.exec(
                f"SELECT series, day, data FROM rollups WHERE series IN ({marks}) "  # noqa: S608
                "AND day >= ? AND day <= ?",
                *ids, first // 24, last // 24,
            ):  # fmt: skip
                for hour, stats in rollup.hours(row["day"], rollup.decode(row["data"])):
                    if first <= hour <= min(last, compacted - 1):
                        out[row["series"]][hour] = stats
        if last >= compacted:
            recent = self.minutes(series, max(first, compacted) * 60, last * 60 + 59)
            for series_id, values in recent.items():
                for hour, stats in rollup.from_minutes(values).items():
                    out[series_id][hour] = stats
        return out

    def size(self) -> dict[str, int]:
        counts = {
            table: int(self.sql.exec(f"SELECT count(*) AS n FROM {table}").one()["n"])  # noqa: S608
            for table in ("head", "chunks", "rollups")
        }
        payload = self.sql.exec("SELECT coalesce(sum(length(data)), 0) AS b FROM chunks").one()["b"]
        counts.update(series=len(self.catalog), chunk_bytes=int(payload))
        counts["database_bytes"] = int(getattr(self.sql, "databaseSize", 0) or 0)
        return counts

    def _meta(self, key: str) -> str | None:
        rows = self.sql.exec("SELECT value FROM meta WHERE key = ?", key).toArray()
        return str(rows[0]["value"]) if rows else None

    def _set_meta(self, key: str, value: str) -> None:
        self.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value)


def decode_payload(payload: str) -> list[dict[str, Any]]:
    """Series entries from a `Batch.payloads` string (positional rows)."""
    rows = json.loads(payload)
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ValueError("payload must be a JSON list of series rows")
    try:
        return [from_row(row) for row in rows]
    except (TypeError, ValueError):
        raise ValueError("a series row has the wrong shape") from None


def _batches(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), IN_BATCH):
        yield ids[start : start + IN_BATCH]
