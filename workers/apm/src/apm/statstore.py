"""Latency statistics of one stats shard: minute sketches, daily running hour totals, examples.

A key is `(kind, a, b)`: `("route", service, route)`, `("edge", caller, callee)`,
`("db", system, fingerprint)`, `("http", host, "")`, `("colo", colo, "")`. Ingest upserts one
row per key and minute (count, errors, sketch): those rows are the durable truth. `rollup()`
(every minute, by cron) folds finished minutes into hour rows holding the running total since
the start of the UTC day and moves the watermark; minutes at or after the watermark are read
from minute rows, so a query never waits for the rollup and never counts a minute twice. A late
minute (before the watermark) is folded into its hour rows when it arrives. See `window.py`
for the arithmetic.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from apm.window import DAY_HOURS, HOUR_MINUTES, Span, day_spans
from obs_schema.sketch import Sketch

KINDS = ("route", "edge", "db", "http", "colo")
EXAMPLES_PER_HOUR = 5
MAX_DECODED = 50_000  # decoded hour rows kept in memory (a few MB)
MAX_SPANS = 16  # day-span totals kept in memory (one per key each)
MAX_ROLLUP_MINUTES = 24 * 60  # one run catches up at most a day; the next runs continue
Key = tuple[str, str, str]
Key2 = tuple[str, str]  # (a, b) within one kind

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS minutes (kind TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL,"
    " minute INTEGER NOT NULL, count INTEGER NOT NULL, errors INTEGER NOT NULL,"
    " sketch BLOB NOT NULL, PRIMARY KEY (kind, a, b, minute)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS minutes_by_time ON minutes (kind, minute)",
    "CREATE TABLE IF NOT EXISTS hours (kind TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL,"
    " hour INTEGER NOT NULL, count INTEGER NOT NULL, errors INTEGER NOT NULL,"
    " sketch BLOB NOT NULL, PRIMARY KEY (kind, a, b, hour)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS hours_by_time ON hours (kind, hour)",
    "CREATE TABLE IF NOT EXISTS examples (kind TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL,"
    " hour INTEGER NOT NULL, duration_ns INTEGER NOT NULL, trace_id TEXT NOT NULL,"
    " span_id TEXT NOT NULL, start_ns INTEGER NOT NULL, error INTEGER NOT NULL,"
    " PRIMARY KEY (kind, a, b, hour, trace_id, span_id))",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER)",
)


@dataclass
class Total:
    """Count, errors and sketch of one key over some minutes."""

    count: int = 0
    errors: int = 0
    sketch: Sketch = field(default_factory=Sketch)

    @classmethod
    def of(cls, count: int, errors: int, blob: bytes) -> Total:
        return cls(count, errors, Sketch.from_bytes(bytes(blob)))

    def add(self, other: Total) -> None:
        self.count += other.count
        self.errors += other.errors
        self.sketch.merge(other.sketch)

    def remove(self, other: Total) -> None:
        self.count -= other.count
        self.errors -= other.errors
        self.sketch.subtract(other.sketch)

    def wire(self, a: str, b: str) -> list[Any]:
        return [a, b, self.count, self.errors, self.sketch.to_bytes()]


class StatsStore:
    def __init__(self, sql: Any) -> None:
        self.sql = sql
        # Decoded hour rows, kept while the object stays resident: most rows a summary reads
        # (whole past hours) never change, and decoding them is most of a summary's cost.
        # Every write to an hour row drops its entry; pruning drops them all.
        self._decoded: dict[tuple[str, str, str, int], Total] = {}
        # Totals of day spans (`_span_totals`) by (kind, a, before, last): dropped when an
        # hour row they may have read is written (any hour up to `last`); pruning drops all.
        self._spans: dict[tuple[str, str | None, int | None, int], dict[Key2, Total]] = {}
        # Totals of whole rolled windows (`_rolled`) by (kind, a, first hour, last hour).
        self._rolled_totals: dict[tuple[str, str | None, int, int], dict[Key2, Total]] = {}
        for statement in SCHEMA:
            sql.exec(statement)

    # --- writes -----------------------------------------------------------------------------
    def record(self, entries: Iterable[dict[str, Any]]) -> int:
        """Add per-minute contributions: `{kind, a, b, minute, errors, sketch, examples}`."""
        watermark = self.watermark()
        count = 0
        for entry in entries:
            key: Key = (str(entry["kind"]), str(entry["a"]), str(entry["b"]))
            minute = int(entry["minute"])
            delta = Total.of(0, int(entry["errors"]), entry["sketch"])
            delta.count = delta.sketch.count
            self._add_minute(key, minute, delta)
            if watermark is not None and minute < watermark:  # already rolled up: late data
                self._apply(key, minute // HOUR_MINUTES, delta, (watermark - 1) // HOUR_MINUTES)
            self._examples(key, minute // HOUR_MINUTES, entry.get("examples") or [])
            count += delta.count
        return count

    def _add_minute(self, key: Key, minute: int, delta: Total) -> None:
        rows = self.sql.exec(
            "SELECT count, errors, sketch FROM minutes WHERE kind = ? AND a = ? AND b = ?"
            " AND minute = ?",
            *key,
            minute,
        ).toArray()
        total = delta  # not mutated: `record` still needs the delta alone for late minutes
        if rows:
            total = Total.of(rows[0]["count"], rows[0]["errors"], rows[0]["sketch"])
            total.add(delta)
        self.sql.exec(
            "INSERT OR REPLACE INTO minutes (kind, a, b, minute, count, errors, sketch)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            *key,
            minute,
            total.count,
            total.errors,
            total.sketch.to_bytes(),
        )

    def _examples(self, key: Key, hour: int, examples: list[list[Any]]) -> None:
        for duration, trace_id, span_id, start_ns, error in examples:
            self.sql.exec(
                "INSERT OR IGNORE INTO examples (kind, a, b, hour, duration_ns, trace_id,"
                " span_id, start_ns, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                *key,
                hour,
                int(duration),
                str(trace_id),
                str(span_id),
                int(start_ns),
                1 if error else 0,
            )
        if examples:  # keep the slowest few and the latest few errors of each hour
            self.sql.exec(
                "DELETE FROM examples WHERE kind = ? AND a = ? AND b = ? AND hour = ? AND rowid"
                " NOT IN (SELECT rowid FROM examples WHERE kind = ?1 AND a = ?2 AND b = ?3"
                " AND hour = ?4 ORDER BY duration_ns DESC LIMIT ?5) AND rowid NOT IN"
                " (SELECT rowid FROM examples WHERE kind = ?1 AND a = ?2 AND b = ?3"
                " AND hour = ?4 AND error = 1 ORDER BY start_ns DESC LIMIT ?5)",
                *key,
                hour,
                EXAMPLES_PER_HOUR,
            )

    def rollup(self, now_minute: int) -> int:
        """Fold finished minutes into the hour rows; returns the minutes rolled."""
        watermark = self.watermark()
        if watermark is None:
            first = self.sql.exec("SELECT min(minute) AS m FROM minutes").one()["m"]
            watermark = now_minute if first is None else int(first)
        target = min(now_minute, watermark + MAX_ROLLUP_MINUTES)
        if target <= watermark:
            return 0
        last_hour = (target - 1) // HOUR_MINUTES
        # From the last hour rolled so far: when the watermark sits at an hour's start, that
        # hour has no rows yet and must be carried too, or quiet keys vanish from it.
        self._carry_forward((watermark - 1) // HOUR_MINUTES, last_hour)
        deltas: dict[tuple[Key, int], Total] = {}
        for row in self.sql.exec(
            "SELECT kind, a, b, minute, count, errors, sketch FROM minutes"
            " WHERE minute >= ? AND minute < ?",
            watermark,
            target,
        ):
            slot = ((row["kind"], row["a"], row["b"]), row["minute"] // HOUR_MINUTES)
            deltas.setdefault(slot, Total()).add(
                Total.of(row["count"], row["errors"], row["sketch"])
            )
        for (key, hour), delta in sorted(deltas.items()):
            self._apply(key, hour, delta, last_hour)
        self._set_watermark(target)
        return target - watermark

    def _carry_forward(self, from_hour: int, to_hour: int) -> None:
        # Every key seen earlier in a day gets a row for each later rolled hour of that day,
        # so "the row at hour h" always exists for active keys (see window.py).
        self._forget_spans(None, from_hour + 1)
        for hour in range(max(from_hour, to_hour - DAY_HOURS) + 1, to_hour + 1):
            if hour % DAY_HOURS:
                self.sql.exec(
                    "INSERT OR IGNORE INTO hours (kind, a, b, hour, count, errors, sketch)"
                    " SELECT kind, a, b, ?, count, errors, sketch FROM hours WHERE hour = ?",
                    hour,
                    hour - 1,
                )

    def _apply(self, key: Key, hour: int, delta: Total, last_rolled: int) -> None:
        """Add `delta` to the running totals of `hour` and every later rolled hour that day."""
        day_start = hour - hour % DAY_HOURS
        last = min(day_start + DAY_HOURS - 1, max(last_rolled, hour))
        rows = {
            row["hour"]: row
            for row in self.sql.exec(
                "SELECT hour, count, errors, sketch FROM hours WHERE kind = ? AND a = ?"
                " AND b = ? AND hour >= ? AND hour <= ?",
                *key,
                day_start,
                last,
            )
        }
        before = [h for h in rows if h < hour]
        previous = rows[max(before)] if before else None
        for h in range(hour, last + 1):
            previous = rows.get(h, previous)
            total = Total() if previous is None else Total.of(*_cells(previous))
            total.add(delta)
            self._decoded.pop((*key, h), None)
            self.sql.exec(
                "INSERT OR REPLACE INTO hours (kind, a, b, hour, count, errors, sketch)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                *key,
                h,
                total.count,
                total.errors,
                total.sketch.to_bytes(),
            )
        self._forget_spans(key[0], hour)

    def prune(self, minute_floor: int, hour_floor: int) -> dict[str, int]:
        """Drop minute rows and examples before `minute_floor`, hour rows before `hour_floor`."""
        watermark = self.watermark() or 0
        self._decoded.clear()
        self._spans.clear()
        self._rolled_totals.clear()
        floor = min(minute_floor, watermark)  # never drop what is not rolled up yet
        minutes = self.sql.exec("DELETE FROM minutes WHERE minute < ?", floor).rowsWritten
        examples = self.sql.exec(
            "DELETE FROM examples WHERE hour < ?", floor // HOUR_MINUTES
        ).rowsWritten
        hours = self.sql.exec("DELETE FROM hours WHERE hour < ?", hour_floor).rowsWritten
        return {"minutes": minutes, "hours": hours, "examples": examples}

    # --- reads ------------------------------------------------------------------------------
    def watermark(self) -> int | None:
        rows = self.sql.exec("SELECT value FROM meta WHERE name = 'watermark'").toArray()
        return int(rows[0]["value"]) if rows else None

    def _set_watermark(self, minute: int) -> None:
        self.sql.exec("INSERT OR REPLACE INTO meta (name, value) VALUES ('watermark', ?)", minute)

    def totals(
        self, kind: str, start: int, end: int, hourly: bool, a: str | None = None
    ) -> dict[tuple[str, str], Total]:
        """Per `(a, b)` of `kind`: the total over minutes `[start, end)`.

        Read-only: totals of rolled hours are shared with later queries (see `_rolled`)."""
        totals: dict[tuple[str, str], Total] = {}
        watermark = self.watermark() if hourly else None
        if watermark is not None and watermark > start:
            totals = dict(self._rolled(kind, start, min(end, watermark), a))
            start = max(start, watermark)
        own: set[tuple[str, str]] = set()  # keys whose total is this query's, free to change
        for row in self._minute_rows(kind, start, end, a):
            key = (row["a"], row["b"])
            part = Total.of(row["count"], row["errors"], row["sketch"])
            if key in own:
                merge_into(totals, key, part)
                continue
            own.add(key)
            shared = totals.get(key)
            totals[key] = part if shared is None else _sum(shared, part)
        return totals

    def _rolled(
        self, kind: str, start: int, rolled_end: int, a: str | None
    ) -> dict[tuple[str, str], Total]:
        """Totals over rolled minutes `[start, rolled_end)`, kept until an hour row they read
        is written: the rollup writes the current hour once a minute, so summaries asked for
        within the same minute share one computation and only add the minutes after it."""
        slot = (kind, a, start // HOUR_MINUTES, (rolled_end - 1) // HOUR_MINUTES)
        found = self._rolled_totals.get(slot)
        if found is None:
            found = {}
            self._hour_totals(found, kind, start, rolled_end, a)
            if len(self._rolled_totals) >= MAX_SPANS:
                self._rolled_totals.pop(next(iter(self._rolled_totals)))
            self._rolled_totals[slot] = found
        return found

    def _minute_rows(self, kind: str, start: int, end: int, a: str | None) -> Any:
        extra = " AND a = ?" if a is not None else ""
        return self.sql.exec(
            "SELECT a, b, count, errors, sketch FROM minutes WHERE kind = ? AND minute >= ?"  # noqa: S608
            f" AND minute < ?{extra}",
            kind,
            start,
            end,
            *([a] if a is not None else []),
        )

    def _hour_totals(
        self,
        totals: dict[tuple[str, str], Total],
        kind: str,
        start: int,
        rolled_end: int,
        a: str | None,
    ) -> None:
        # Rolled minutes [start, rolled_end); `start` is whole hours, `rolled_end` may not be.
        last_rolled = (rolled_end - 1) // HOUR_MINUTES
        for span in day_spans(start // HOUR_MINUTES, last_rolled + 1):
            for key, part in self._span_totals(kind, span, a).items():
                merge_into(totals, key, part)

    def _span_totals(self, kind: str, span: Span, a: str | None) -> dict[Key2, Total]:
        """Totals per key over one day span (read-only: shared with later queries).

        Kept until a write touches an hour row they were computed from: the part of a 24 h
        window before today (`row(23) - row(start - 1)`) is computed once an hour rather than
        once per query, and the rest is one decoded row per key."""
        slot = (kind, a, span.before, span.last)
        found = self._spans.get(slot)
        if found is None:
            wanted = [span.last] if span.before is None else [span.last, span.before]
            rows = self._hour_rows(kind, wanted, a)
            last = rows[span.last]
            earlier = rows[span.before] if span.before is not None else {}
            found = {key: _difference(total, earlier.get(key)) for key, total in last.items()}
            if len(self._spans) >= MAX_SPANS:
                self._spans.pop(next(iter(self._spans)))
            self._spans[slot] = found
        return found

    def _forget_spans(self, kind: str | None, hour: int) -> None:
        """Drop the totals that read an hour row at or after `hour` (of `kind`, or any)."""
        for slot in [s for s in self._spans if s[3] >= hour and kind in (None, s[0])]:
            del self._spans[slot]
        for key in [k for k in self._rolled_totals if k[3] >= hour and kind in (None, k[0])]:
            del self._rolled_totals[key]

    def _hour_rows(
        self, kind: str, hours: list[int], a: str | None
    ) -> dict[int, dict[tuple[str, str], Total]]:
        """Decoded hour rows of `kind` (and `a`) at `hours`, from memory where possible."""
        rows: dict[int, dict[tuple[str, str], Total]] = {hour: {} for hour in hours}
        extra = " AND a = ?" if a is not None else ""
        missing: list[list[Any]] = []
        # The hours as one JSON parameter: a statement binds at most 100 values.
        for row in self.sql.exec(
            f"SELECT a, b, hour FROM hours WHERE kind = ?{extra}"  # noqa: S608
            " AND hour IN (SELECT value FROM json_each(?))",
            kind,
            *([a] if a is not None else []),
            json.dumps(hours),
        ):
            cached = self._decoded.get((kind, row["a"], row["b"], row["hour"]))
            if cached is None:
                missing.append([row["a"], row["b"], row["hour"]])
            else:
                rows[row["hour"]][(row["a"], row["b"])] = cached
        if missing:
            self._decode_rows(kind, missing, rows)
        return rows

    def _decode_rows(
        self, kind: str, keys: list[list[Any]], rows: dict[int, dict[tuple[str, str], Total]]
    ) -> None:
        if len(self._decoded) > MAX_DECODED:
            self._decoded.clear()
        for row in self.sql.exec(
            # CROSS JOIN keeps the keys as the outer loop (one primary-key lookup each): left
            # to itself the planner may scan `hours` once per key (seconds at 1,000s of keys).
            "SELECT h.a, h.b, h.hour, h.count, h.errors, h.sketch FROM json_each(?) AS k"
            " CROSS JOIN hours AS h ON h.kind = ? AND h.a = k.value->>0 AND h.b = k.value->>1"
            " AND h.hour = k.value->>2",
            json.dumps(keys),
            kind,
        ):
            total = Total.of(*_cells(row))
            self._decoded[(kind, row["a"], row["b"], row["hour"])] = total
            rows[row["hour"]][(row["a"], row["b"])] = total

    def series(
        self, kind: str, a: str, b: str | None, start: int, end: int, step: int, hourly: bool
    ) -> dict[int, Total]:
        """Totals per bucket of `step` minutes over `[start, end)`, keys `(kind, a, b or *)`."""
        buckets: dict[int, Total] = {}

        def bucket(minute: int) -> int:
            return start + (minute - start) // step * step

        watermark = self.watermark()
        if hourly and step % HOUR_MINUTES == 0 and watermark is not None and watermark > start:
            rolled_end = min(end, watermark)
            last_hour = (rolled_end - 1) // HOUR_MINUTES
            for hour, key, total in self.hour_deltas(kind, a, start // 60, last_hour + 1):
                if b is None or key[1] == b:  # an hour's total: extremes unknown after 00:00
                    merge_into(buckets, bucket(hour * HOUR_MINUTES), total)
            start_minutes = max(start, watermark)
        else:
            start_minutes = start
        for row in self.sql.exec(
            "SELECT b, minute, count, errors, sketch FROM minutes WHERE kind = ? AND a = ?"
            " AND minute >= ? AND minute < ?",
            kind,
            a,
            start_minutes,
            end,
        ):
            if b is None or row["b"] == b:
                part = Total.of(row["count"], row["errors"], row["sketch"])
                merge_into(buckets, bucket(row["minute"]), part)
        return buckets

    def hour_deltas(self, kind: str, a: str, first_hour: int, end_hour: int) -> Any:
        """Plain per-hour rows (not running totals) of keys `(kind, a, *)`, for charts."""
        previous: dict[tuple[str, str], Total] = {}
        day_start = first_hour - first_hour % DAY_HOURS
        for row in self.sql.exec(
            "SELECT b, hour, count, errors, sketch FROM hours WHERE kind = ? AND a = ?"
            " AND hour >= ? AND hour < ? ORDER BY hour",
            kind,
            a,
            day_start,
            end_hour,
        ):
            key, total = (a, row["b"]), Total.of(*_cells(row))
            earlier = previous.get(key)
            previous[key] = Total.of(*_cells(row))
            if earlier is not None and row["hour"] % DAY_HOURS:
                total.remove(earlier)
            if row["hour"] >= first_hour:
                yield row["hour"], key, total

    def examples(
        self, kind: str, a: str | None, b: str | None, start: int, end: int, limit: int
    ) -> list[dict[str, Any]]:
        """The slowest recorded examples (and recent errors) of keys in minutes `[start, end)`."""
        where, params = "kind = ? AND hour >= ? AND hour <= ?", [kind, start // 60, end // 60]
        if a is not None:
            where, params = where + " AND a = ?", [*params, a]
        if b is not None:
            where, params = where + " AND b = ?", [*params, b]
        found: list[dict[str, Any]] = self.sql.exec(
            "SELECT a, b, duration_ns, trace_id, span_id, start_ns, error FROM examples"  # noqa: S608
            f" WHERE {where} ORDER BY duration_ns DESC LIMIT ?",
            *params,
            limit,
        ).toArray()
        return found


def _difference(total: Total, earlier: Total | None) -> Total:
    if earlier is None:
        return total
    out = Total()
    out.add(total)
    out.remove(earlier)
    return out


def merge_into(totals: dict[Any, Total], key: Any, part: Total) -> None:
    """`totals[key] += part`, where `part` is not modified; unknown extremes (a difference of
    running totals) stay unknown (`Sketch.merge`)."""
    existing = totals.get(key)
    if existing is None:
        existing = totals[key] = Total()
    existing.add(part)


def _sum(shared: Total, part: Total) -> Total:
    """A new `shared + part`, both left as they are."""
    out: dict[int, Total] = {}
    merge_into(out, 0, shared)
    merge_into(out, 0, part)
    return out[0]


def _cells(row: dict[str, Any]) -> tuple[int, int, bytes]:
    return int(row["count"]), int(row["errors"]), bytes(row["sketch"])
