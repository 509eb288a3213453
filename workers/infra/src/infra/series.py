"""The series of one shard: identity, how samples merge, and counter state.

A series is a metric name plus a canonical label set (sorted JSON). Histogram families are
stored flattened, as Prometheus does: `<family>_count`, `<family>_sum` and one
`<family>_bucket{le=...}` series per bucket, each holding per-minute increments, so a family
merges exactly across time, label sets and rollups, and quantiles are computed at query time.

Inputs may be cumulative (a running total since `start`) or deltas. Cumulative inputs are turned
into increments here, where the last raw value of each series is kept: a value lower than the
last, or a new start time, is a counter reset, after which the new total counts in full.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

AGGS = ("sum", "last", "max", "min")
KINDS = ("counter", "gauge", "histogram")
ROLES = ("value", "count", "sum", "bucket", "gbucket")
FRESH_START_MS = 10 * 60_000  # a cumulative stream this young is counted from its start
STATE_ROWS = 20
INF_MARK = 1e308  # JSON has no infinity: the +Inf bucket bound is stored as this sentinel


class SeriesLimitError(Exception):
    """The shard holds as many series as it may; new series are refused."""


@dataclass(slots=True)
class Series:
    id: int
    name: str
    labels: str  # canonical JSON
    family: str
    kind: str
    role: str
    agg: str
    le: float | None
    unit: str
    first_ms: int
    last_ms: int
    raw: float | None = None
    raw_start: int | None = None
    raw_ms: int | None = None
    dirty: bool = False
    pend: dict[int, float] | None = None  # minute -> value folded in, not yet in head

    def __post_init__(self) -> None:
        if self.le is not None and self.le >= INF_MARK:
            self.le = math.inf

    @property
    def label_map(self) -> dict[str, str]:
        parsed: dict[str, str] = json.loads(self.labels)
        return parsed

    def increment(
        self, t_ms: int, start_ms: int, value: float, known: bool = False
    ) -> float | None:
        """The increase a cumulative sample adds since the last one; None when out of order.

        A series seen for the first time counts in full when its stream started recently, or
        when the stream is `known` (a new bucket of a histogram whose count series we follow:
        the bucket was empty until now); otherwise its history is unknown and it counts 0.
        """
        if self.raw is None or self.raw_ms is None:
            fresh = start_ms > 0 and 0 <= t_ms - start_ms <= FRESH_START_MS
            delta: float | None = value if fresh or known else 0.0
        elif t_ms <= self.raw_ms:
            return None
        elif value < self.raw or (start_ms and self.raw_start and start_ms != self.raw_start):
            delta = value
        else:
            delta = value - self.raw
        self.raw, self.raw_start, self.raw_ms, self.dirty = value, start_ms or None, t_ms, True
        return delta


_CANONICAL: dict[tuple[tuple[str, str], ...], str] = {}


def canonical_labels(labels: Mapping[str, str]) -> str:
    """Sorted compact JSON; label sets repeat export after export, so they are cached."""
    key = tuple(sorted(labels.items()))
    found = _CANONICAL.get(key)
    if found is None:
        if len(_CANONICAL) >= 200_000:
            _CANONICAL.clear()
        found = _CANONICAL[key] = json.dumps(dict(key), separators=(",", ":"), ensure_ascii=False)
    return found


def merge(agg: str, old: float | None, new: float) -> float:
    if old is None:
        return new
    if agg == "sum":
        return old + new
    if agg == "max":
        return max(old, new)
    if agg == "min":
        return min(old, new)
    return new  # last


COLUMNS = (
    "id, name, labels, family, kind, role, agg, le, unit, first_ms, last_ms, raw, raw_start, raw_ms"
)


class Catalog:
    """Every series of the shard, loaded once per object and kept in memory."""

    def __init__(self, sql: Any, max_series: int) -> None:
        self.sql = sql
        self.max_series = max_series
        self.by_key: dict[tuple[str, str], Series] = {}
        self.by_family: dict[str, list[Series]] = {}
        self.by_id: dict[int, Series] = {}
        self.created: set[int] = set()  # ids created by the current batch
        for row in sql.exec(f"SELECT {COLUMNS} FROM series").toArray():  # noqa: S608 - constant
            self._index(Series(**row))

    def __len__(self) -> int:
        return len(self.by_id)

    def get_or_create(self, entry: Mapping[str, Any], now_ms: int) -> Series:
        key = (str(entry["n"]), str(entry["l"]))
        found = self.by_key.get(key)
        if found is not None:
            return found
        if len(self.by_id) >= self.max_series:
            raise SeriesLimitError(f"series limit of {self.max_series} per shard reached")
        row = self.sql.exec(
            "INSERT INTO series (name, labels, family, kind, role, agg, le, unit, first_ms, "
            "last_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            key[0], key[1], str(entry["f"]), str(entry["k"]), str(entry["r"]),
            str(entry["a"]), entry.get("le"), str(entry.get("u", "")), now_ms, now_ms,
        ).one()  # fmt: skip
        series = Series(
            int(row["id"]), key[0], key[1], str(entry["f"]), str(entry["k"]), str(entry["r"]),
            str(entry["a"]), entry.get("le"), str(entry.get("u", "")), now_ms, now_ms,
        )  # fmt: skip
        self._index(series)
        self.created.add(series.id)
        return series

    def follows_stream(self, entry: Mapping[str, Any], start_ms: int) -> bool:
        """Is `entry` a new bucket of a histogram stream followed since an earlier batch?"""
        if entry.get("r") not in ("bucket", "gbucket") or not start_ms:
            return False
        labels = {k: v for k, v in json.loads(str(entry["l"])).items() if k != "le"}
        count = self.by_key.get((f"{entry['f']}_count", canonical_labels(labels)))
        return count is not None and count.raw_start == start_ms and count.id not in self.created

    def family(self, name: str) -> list[Series]:
        return self.by_family.get(name, [])

    def families(self) -> Iterable[str]:
        return self.by_family.keys()

    def save_dirty(self, touched: Iterable[Series]) -> None:
        """Persist changed counter state, 20 series per statement (5 parameters each)."""
        rows = []
        for series in touched:
            if series.dirty:
                rows.append(
                    (series.id, series.last_ms, series.raw, series.raw_start, series.raw_ms)
                )
                series.dirty = False
        for start in range(0, len(rows), STATE_ROWS):
            batch = rows[start : start + STATE_ROWS]
            values = ",".join("(?, ?, ?, ?, ?)" for _ in batch)
            self.sql.exec(
                f"WITH v(id, last_ms, raw, raw_start, raw_ms) AS (VALUES {values}) "  # noqa: S608
                "UPDATE series SET last_ms = v.last_ms, raw = v.raw, raw_start = v.raw_start, "
                "raw_ms = v.raw_ms FROM v WHERE series.id = v.id",
                *(x for row in batch for x in row),
            )

    def forget(self, ids: Iterable[int]) -> None:
        for series_id in ids:
            series = self.by_id.pop(series_id, None)
            if series is None:
                continue
            self.by_key.pop((series.name, series.labels), None)
            members = self.by_family.get(series.family, [])
            if series in members:
                members.remove(series)
            if not members:
                self.by_family.pop(series.family, None)
            self.sql.exec("DELETE FROM series WHERE id = ?", series_id)

    def _index(self, series: Series) -> None:
        self.by_key[(series.name, series.labels)] = series
        self.by_id[series.id] = series
        self.by_family.setdefault(series.family, []).append(series)
