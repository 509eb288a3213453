"""One time-series shard: the pure core behind the `MetricsShard` Durable Object.

Storage (DO SQLite):
- `head(series, minute, value)`: samples of hours not yet compacted, one row per minute.
- `chunks(series, hour, data, fives)`: one `codec` chunk per series per hour (60 minute slots),
  kept for `MINUTE_RETENTION_DAYS`, and its 5-minute sums and counts (`fives`), which answer
  charts at steps of 5 minutes without decoding the minutes.
- `rollups(series, day, data)`: per series per day, 24 hourly slots of count/sum/min/max, kept
  for `ROLLUP_RETENTION_DAYS`.

Times are epoch minutes, hours and days (small integers store small). Writes within one event
are committed together by the runtime, so a batch is stored whole or not at all.
"""

from __future__ import annotations

import json
import math
import sys
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra import codec, fives, rollup
from infra.samples import FIELDS, with_le
from infra.series import INF_MARK, Catalog, Series, SeriesLimitError, merge

MINUTE_MS = 60_000
MINUTE_RETENTION_DAYS = 7
ROLLUP_RETENTION_DAYS = 90
FUTURE_TOLERANCE_MS = 10 * MINUTE_MS
COMPACT_GRACE_MS = 5 * MINUTE_MS  # late samples of the last hour still land in head
MAX_SERIES = 50_000
COMPACT_ROWS = 60_000  # head rows handled per compaction call; the rest wait for the next
ROWS_PER_INSERT = 33  # 3 parameters a row, under the 100-parameter limit per statement
IN_BATCH = 90
# The folded minutes are written to head (and the log emptied) after this many payloads or bytes
# logged (what a restart may replay; the file keeps the log's largest size allocated), this
# many (series, minute) values, or this long. A flush costs a row per (series, minute), however
# many samples were folded into it.
FLUSH_LOGGED = 1024
FLUSH_LOG_BYTES = 8 << 20
FLUSH_PENDING = 100_000
FLUSH_AGE_MS = 60_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, labels TEXT NOT NULL, family TEXT NOT NULL,
  kind TEXT NOT NULL, role TEXT NOT NULL, agg TEXT NOT NULL, le REAL, unit TEXT NOT NULL,
  first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL,
  raw REAL, raw_start INTEGER, raw_ms INTEGER, UNIQUE (name, labels));
CREATE TABLE IF NOT EXISTS head (series INTEGER NOT NULL, minute INTEGER NOT NULL,
  value REAL NOT NULL, PRIMARY KEY (series, minute)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunks (series INTEGER NOT NULL, hour INTEGER NOT NULL,
  data BLOB NOT NULL, fives BLOB, PRIMARY KEY (series, hour)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollups (series INTEGER NOT NULL, day INTEGER NOT NULL,
  data BLOB NOT NULL, PRIMARY KEY (series, day)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, now_ms INTEGER NOT NULL,
  header TEXT NOT NULL, data BLOB NOT NULL);
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
        _add_fives_column(sql)
        self.catalog = Catalog(sql, max_series)
        # Series with samples folded in (`Series.pend`) but not yet in `head`, and how many
        # (series, minute) values they hold.
        self.touched: dict[int, Series] = {}
        self.pending = 0
        self.logged_at = self.logged_bytes = 0
        self.logged = 0
        self._by_block: dict[tuple[str, float | None], dict[str, Series]] = {}
        self._replay()

    # --- writes -------------------------------------------------------------------------------
    def ingest(self, entries: Iterable[Mapping[str, Any]], now_ms: int) -> IngestResult:
        """Store series entries `{n, l, f, k, r, a, le?, u?, c?, p: [[t_ms, start_ms, v]]}`
        and write them through at once (no log: the same event writes the head)."""
        fold = self._fold_start(now_ms)
        for entry in entries:
            points = entry.get("p") or []
            try:
                series = self.catalog.get_or_create(entry, now_ms)
            except SeriesLimitError as error:
                fold.result.reject(len(points), str(error))
                continue
            cumulative = bool(entry.get("c"))
            for t_ms, start_ms, value in points if len(points) < 2 else sorted(points):
                fold.add(series, cumulative, int(t_ms), int(start_ms or 0), float(value))
        self.flush()
        return fold.result

    def ingest_payload(self, header: str, data: bytes, now_ms: int) -> IngestResult:
        """Store one `Batch.payloads` part: logged as received (durable when this event
        commits), folded into the in-memory minute aggregates, written to `head` by `flush`.

        Raises ValueError for a payload of the wrong shape, before anything is stored."""
        blocks = decode_payload(header, data)
        result = self._fold_blocks(blocks, now_ms)
        self.sql.exec("INSERT INTO log (now_ms, header, data) VALUES (?, ?, ?)",
                      now_ms, header, data)  # fmt: skip
        if not self.logged:
            self.logged_at, self.logged_bytes = now_ms, 0
        self.logged += 1
        self.logged_bytes += len(header) + len(data)
        if (self.logged >= FLUSH_LOGGED or self.logged_bytes >= FLUSH_LOG_BYTES
                or self.pending >= FLUSH_PENDING
                or now_ms - self.logged_at >= FLUSH_AGE_MS):  # fmt: skip
            self.flush()
        return result

    def _fold_start(self, now_ms: int) -> Fold:
        self.catalog.created.clear()
        return Fold(self, now_ms)

    def _fold_blocks(
        self, payload: Payload, now_ms: int, replay: Replay | None = None
    ) -> IngestResult:
        labels, blocks = payload
        fold = self._fold_start(now_ms)
        for meta, ids, ts, starts, values in blocks:
            members = self._members(meta, [labels[i] for i in ids], now_ms, fold.result)
            if replay is not None:
                for series in members:
                    if series is not None:
                        replay.created(series, self.catalog.created)
            fold.add_block(members, bool(meta["c"]), ts, starts, values)
        return fold.result

    def _members(
        self, meta: Mapping[str, Any], label_sets: list[str], now_ms: int, result: IngestResult
    ) -> list[Series | None]:
        """The series of a block's points (None where the series limit refused one). A block's
        label sets carry no `le`: found per (name, le) and label set, `le` added once."""
        le = meta["le"]
        if le is not None:
            le = math.inf if le >= INF_MARK else le
        known = self._by_block.get((meta["n"], le))
        if known is None:
            known = self._by_block[(meta["n"], le)] = {}
        members: list[Series | None] = []
        for label_set in label_sets:
            series = known.get(label_set)
            if series is None:
                full = label_set if le is None else with_le(label_set, le)
                try:
                    series = self.catalog.get_or_create({**meta, "l": full}, now_ms)
                except SeriesLimitError as error:
                    result.reject(1, str(error))
                else:
                    known[label_set] = series
            members.append(series)
        return members

    def flush(self) -> None:
        """Write the folded minutes to `head` and counter state to `series`, and empty the log
        they came from (one event: all of it or none)."""
        by_agg: dict[str, dict[tuple[int, int], float]] = {}
        for series in self.touched.values():
            if series.pend:
                rows = by_agg.setdefault(series.agg, {})
                for minute, value in series.pend.items():
                    rows[(series.id, minute)] = value
            series.pend = None
        for agg, rows in by_agg.items():
            self._write_head(agg, rows)
        self.catalog.save_dirty(self.touched.values())
        if self.logged:
            self.sql.exec("DELETE FROM log")
        if self.logged or by_agg:
            # Series up to this id are no longer new to a replayed batch (see `Replay`).
            self._set_meta("flushed_id", str(max(self.catalog.by_id, default=0)))
        self.pending, self.touched, self.logged = 0, {}, 0

    def _replay(self) -> None:
        """Fold what was logged but not flushed before the object last stopped, then flush."""
        rows = self.sql.exec("SELECT now_ms, header, data FROM log ORDER BY seq").toArray()
        if not rows:
            return
        # Series created after the last flush were new in the batch that first named them.
        fresh = Replay(int(self._meta("flushed_id") or 0))
        for row in rows:
            blocks = decode_payload(str(row["header"]), bytes(row["data"]))
            self._fold_blocks(blocks, int(row["now_ms"]), fresh)
        self.logged = len(rows)
        self.flush()

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
        self.flush()
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
            "INSERT OR REPLACE INTO chunks (series, hour, data, fives) VALUES (?, ?, ?, ?)",
            series_id, hour, codec.encode(slots), fives.encode(slots),
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
        self.flush()
        minute_floor = (now_ms // 3_600_000) - MINUTE_RETENTION_DAYS * 24
        day_floor = now_ms // 86_400_000 - ROLLUP_RETENTION_DAYS
        chunks = self.sql.exec("DELETE FROM chunks WHERE hour < ?", minute_floor).rowsWritten
        self.sql.exec("DELETE FROM head WHERE minute < ?", minute_floor * 60)
        rollups = self.sql.exec("DELETE FROM rollups WHERE day < ?", day_floor).rowsWritten
        stale_ms = now_ms - ROLLUP_RETENTION_DAYS * 86_400_000
        gone = [s.id for s in self.catalog.by_id.values() if s.last_ms < stale_ms]
        self.catalog.forget(gone)
        if gone:
            self._by_block.clear()
        return {"chunks": int(chunks), "rollups": int(rollups), "series": len(gone)}

    # --- reads --------------------------------------------------------------------------------
    def minutes(self, series: list[Series], first: int, last: int) -> dict[int, dict[int, float]]:
        """Per series id, minute -> value over epoch minutes [first, last]."""
        self.flush()
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

    def fives(
        self, series: list[Series], first: int, last: int
    ) -> dict[int, dict[int, tuple[float, float]]] | None:
        """Per series id, 5-minute slot (epoch minute // 5) -> (sum, minutes with a sample),
        over minutes [first, last] (whole 5-minute slots). None when an hour has samples both in
        a chunk and in head (late ones, merged by each series' own rule): read minutes then."""
        self.flush()
        out: dict[int, dict[int, tuple[float, float]]] = {s.id: {} for s in series}
        low, high = first // fives.WIDTH, last // fives.WIDTH
        chunked: set[tuple[int, int]] = set()
        for ids in _batches([s.id for s in series]):
            marks = ",".join("?" * len(ids))
            for row in self.sql.exec(
                f"SELECT series, hour, data, fives FROM chunks WHERE series IN ({marks}) "  # noqa: S608
                "AND hour >= ? AND hour <= ?",
                *ids, first // 60, last // 60,
            ):  # fmt: skip
                chunked.add((row["series"], row["hour"]))
                sums, counts = _fives_of(row)
                base, target = row["hour"] * fives.SLOTS, out[row["series"]]
                for slot, total in enumerate(sums):
                    if total is not None and low <= base + slot <= high:
                        target[base + slot] = (total, counts[slot] or 0.0)
            for row in self.sql.exec(
                f"SELECT series, minute, value FROM head WHERE series IN ({marks}) "  # noqa: S608
                "AND minute >= ? AND minute <= ? ORDER BY series, minute",
                *ids, first, last,
            ):  # fmt: skip
                if (row["series"], row["minute"] // 60) in chunked:
                    return None
                target, five = out[row["series"]], row["minute"] // fives.WIDTH
                total, n = target.get(five, (0.0, 0.0))
                target[five] = (total + row["value"], n + 1)
        return out

    def hours(
        self, series: list[Series], first: int, last: int
    ) -> dict[int, dict[int, rollup.Stats]]:
        """Per series id, epoch hour -> (count, sum, min, max) over hours [first, last]."""
        self.flush()
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
        self.flush()
        counts = {
            table: int(self.sql.exec(f"SELECT count(*) AS n FROM {table}").one()["n"])  # noqa: S608
            for table in ("head", "chunks", "rollups")
        }
        payload = self.sql.exec(
            "SELECT coalesce(sum(length(data)), 0) AS b, coalesce(sum(length(fives)), 0) AS f "
            "FROM chunks"
        ).one()
        counts.update(series=len(self.catalog), chunk_bytes=int(payload["b"]),
                      fives_bytes=int(payload["f"]))  # fmt: skip
        counts["database_bytes"] = int(getattr(self.sql, "databaseSize", 0) or 0)
        return counts

    def _meta(self, key: str) -> str | None:
        rows = self.sql.exec("SELECT value FROM meta WHERE key = ?", key).toArray()
        return str(rows[0]["value"]) if rows else None

    def _set_meta(self, key: str, value: str) -> None:
        self.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value)


Payload = tuple[
    list[str], list[tuple[dict[str, Any], list[int], list[int], list[int], list[float]]]
]


def decode_payload(header: str, data: bytes) -> Payload:
    """The label sets and blocks of a `Batch.payloads` part: per block its meta (`FIELDS`) and
    its columns (label ids, times, starts, values)."""
    try:
        head = json.loads(header)
        labels, rows = head["labels"], head["blocks"]
        if not all(isinstance(x, str) for x in labels):
            raise TypeError
        metas = [dict(zip(FIELDS, row, strict=True)) for row in rows]
        sizes = [int(meta["count"]) for meta in metas]
        widths = [(n, 1 if int(meta["same"]) & 1 else n, 1 if int(meta["same"]) & 2 else n)
                  for meta, n in zip(metas, sizes, strict=True)]  # fmt: skip
    except (ValueError, TypeError, KeyError):
        raise ValueError("payload header must name label sets and blocks of series") from None
    total = sum(sizes)
    total_ints = sum(map(sum, widths))
    if len(data) != 8 * (total_ints + total) or min(sizes, default=1) < 1:
        raise ValueError("payload data does not match its header")
    integers, numbers = array("q"), array("d")
    integers.frombytes(data[: 8 * total_ints])
    numbers.frombytes(data[8 * total_ints :])
    if sys.byteorder != "little":
        integers.byteswap()
        numbers.byteswap()
    ints, values, blocks, at, at_value = integers.tolist(), numbers.tolist(), [], 0, 0
    for meta, (n, n_ts, n_starts) in zip(metas, widths, strict=True):
        ids = ints[at : at + n]
        if (min(ids) < 0 or max(ids) >= len(labels)) or not isinstance(meta["n"], str):
            raise ValueError("a payload block names an unknown label set")
        at += n
        ts = ints[at : at + n_ts] * (n // n_ts)
        at += n_ts
        starts = ints[at : at + n_starts] * (n // n_starts)
        at += n_starts
        blocks.append((meta, ids, ts, starts, values[at_value : at_value + n]))
        at_value += n
    return labels, blocks


@dataclass
class Replay:
    """Replaying the log: which series were created by the batch being replayed."""

    flushed_id: int
    seen: set[int] = field(default_factory=set)

    def created(self, series: Series, created: set[int]) -> None:
        if series.id > self.flushed_id and series.id not in self.seen:
            self.seen.add(series.id)
            created.add(series.id)


class Fold:
    """Samples folded into the shard's pending minutes (per series and minute, by its agg)."""

    __slots__ = ("catalog", "core", "newest", "oldest", "result", "touched")

    def add_block(
        self, members: list[Series | None], cumulative: bool, ts: list[int],
        starts: list[int], values: list[float],
    ) -> None:  # fmt: skip
        """`add` for a block's columns, with the common case of a counter inlined (a sample
        after the last one, no reset): most samples of an export take this path."""
        touched, add = self.touched, self.add
        accepted = added = 0
        # Exports stamp a metric's points alike: one range check for the block, usually.
        if ts and (min(ts) < self.oldest or max(ts) > self.newest):
            for sample in zip(members, ts, starts, values, strict=True):
                if sample[0] is not None:
                    add(sample[0], cumulative, *sample[1:])
            return
        for series, t_ms, start_ms, value in zip(members, ts, starts, values, strict=True):
            if series is None:
                continue
            if cumulative:
                raw, raw_start = series.raw, series.raw_start
                if (raw is None or value < raw or t_ms <= (series.raw_ms or 0)
                        or (start_ms != raw_start and start_ms and raw_start)):  # fmt: skip
                    add(series, cumulative, t_ms, start_ms, value)
                    continue
                if start_ms != raw_start:
                    series.raw_start = start_ms or None
                series.raw, series.raw_ms, series.dirty = value, t_ms, True
                value -= raw
            minute = t_ms // MINUTE_MS
            pend = series.pend
            if pend is None:
                pend = series.pend = {}
                touched[series.id] = series
            old = pend.get(minute)
            if old is None:
                pend[minute] = value
                added += 1
            elif series.agg == "sum":
                pend[minute] = old + value
            else:
                pend[minute] = merge(series.agg, old, value)
            if t_ms - series.last_ms >= MINUTE_MS:
                series.last_ms, series.dirty = t_ms, True
            accepted += 1
        self.result.accepted += accepted
        self.core.pending += added

    def __init__(self, core: ShardCore, now_ms: int) -> None:
        self.result = IngestResult()
        self.oldest = now_ms - MINUTE_RETENTION_DAYS * 86_400_000
        self.newest = now_ms + FUTURE_TOLERANCE_MS
        self.core, self.touched, self.catalog = core, core.touched, core.catalog

    def add(self, series: Series, cumulative: bool, t_ms: int, start_ms: int, value: float) -> None:
        if t_ms < self.oldest or t_ms > self.newest:
            self.result.reject(1, "timestamp outside the 7-day window (or in the future)")
            return
        if cumulative:
            known = series.raw is None and self.catalog.follows_stream(
                {"r": series.role, "l": series.labels, "f": series.family}, start_ms
            )
            delta = series.increment(t_ms, start_ms, value, known)
            if delta is None:
                self.result.reject(1, "cumulative sample older than the last one")
                return
            value = delta
        minute = t_ms // MINUTE_MS
        if series.pend is None:
            series.pend = {}
            self.touched[series.id] = series
        old = series.pend.get(minute)
        if old is None:
            self.core.pending += 1
        series.pend[minute] = value if old is None else merge(series.agg, old, value)
        if t_ms - series.last_ms >= MINUTE_MS:
            series.last_ms, series.dirty = t_ms, True
        self.result.accepted += 1


def _fives_of(row: Mapping[str, Any]) -> tuple[codec.Slots, codec.Slots]:
    """A chunk's 5-minute sums, computed from its minutes if it predates the `fives` column."""
    if row["fives"] is not None:
        return fives.decode(row["fives"])
    return fives.decode(fives.encode(codec.decode(row["data"])))


def _add_fives_column(sql: Any) -> None:
    """Shards created before `chunks.fives` existed get the column (NULL: computed on read)."""
    columns = {row["name"] for row in sql.exec("PRAGMA table_info(chunks)")}
    if "fives" not in columns:
        sql.exec("ALTER TABLE chunks ADD COLUMN fives BLOB")


def _batches(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), IN_BATCH):
        yield ids[start : start + IN_BATCH]
