"""Anomaly detection over a shard's series, and the anomalies' lifecycle (runs in the object).

Every few minutes `Watch.run` evaluates the last complete 5-minute step of every active signal:
a counter's increase, a gauge's mean, a histogram's mean and its count. It reads only what the
detector needs (recent hours, and a window around the same time on each of the last 7 days),
plus hourly rollups for the series' usual weekly range. An anomaly opens when a step is
anomalous and resolves after two calm evaluations in a row; openings and resolutions are
returned so the Worker can send them to the alerting Worker.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from infra import detector, explain
from infra.detector import PERIOD, STEP_S, Config, Verdict
from infra.series import Series
from infra.shard import ShardCore

STEP_MS = STEP_S * 1000
ACTIVE_MS = 2 * 3_600_000
RESOLVE_AFTER = 2
MAX_SIGNALS = 3000
KEEP_RESOLVED_MS = 30 * 86_400_000
SETTLE_MS = 60_000  # samples of the last minute may still be on their way

SCHEMA = """
CREATE TABLE IF NOT EXISTS anomalies (
  id INTEGER PRIMARY KEY, signal TEXT NOT NULL, metric TEXT NOT NULL, fn TEXT NOT NULL,
  labels TEXT NOT NULL, unit TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
  started_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL, ended_ms INTEGER,
  value REAL NOT NULL, expected REAL NOT NULL, lower REAL NOT NULL, upper REAL NOT NULL,
  score REAL NOT NULL, peak REAL NOT NULL, days INTEGER NOT NULL, calm INTEGER NOT NULL,
  explanation TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS anomalies_state ON anomalies (state, signal);
"""
COLUMNS = (
    "id, signal, metric, fn, labels, unit, kind, state, started_ms, last_ms, ended_ms, value, "
    "expected, lower, upper, score, peak, days, calm, explanation"
)


@dataclass
class Signal:
    metric: str
    fn: str  # "sum" (counter), "avg" (gauge), "mean" / "count" (histogram)
    labels: dict[str, str]
    members: list[Series]
    unit: str

    @property
    def key(self) -> str:
        return f"{self.metric}|{self.fn}|{json.dumps(self.labels, sort_keys=True)}"

    @property
    def counter(self) -> bool:
        return self.fn in ("sum", "count")


class Watch:
    def __init__(self, core: ShardCore, config: Config | None = None) -> None:
        self.core = core
        self.config = config or Config()
        core.sql.exec(SCHEMA)

    def run(self, now_ms: int) -> dict[str, Any]:
        step = (now_ms - SETTLE_MS) // STEP_MS - 1
        opened: list[dict[str, Any]] = []
        resolved: list[dict[str, Any]] = []
        active = self._active()
        signals = self.signals(now_ms)
        for signal in signals:
            verdict = self._verdict(signal, step)
            found = active.pop(signal.key, None)
            if verdict is not None and verdict.anomalous:
                event = self._record(signal, verdict, step * STEP_MS, found)
                if found is None:
                    opened.append(event)
            elif found is not None:
                if (ended := self._calm(found, step * STEP_MS + STEP_MS)) is not None:
                    resolved.append(ended)
        for stale in active.values():  # signals that stopped reporting resolve too
            if (ended := self._calm(stale, step * STEP_MS + STEP_MS)) is not None:
                resolved.append(ended)
        self.core.sql.exec(
            "DELETE FROM anomalies WHERE state = 'resolved' AND ended_ms < ?",
            now_ms - KEEP_RESOLVED_MS,
        )
        return {"evaluated": len(signals), "opened": opened, "resolved": resolved}

    # --- which signals ------------------------------------------------------------------------
    def signals(self, now_ms: int) -> list[Signal]:
        out: list[Signal] = []
        recent = now_ms - ACTIVE_MS
        for family in sorted(self.core.catalog.families()):
            members = [s for s in self.core.catalog.family(family) if s.last_ms >= recent]
            if not members:
                continue
            if members[0].kind == "histogram":
                out.extend(_histogram_signals(family, members))
            else:
                fn = "sum" if members[0].agg == "sum" else "avg"
                out.extend(Signal(s.name, fn, s.label_map, [s], s.unit) for s in members)
            if len(out) >= MAX_SIGNALS:
                return out[:MAX_SIGNALS]
        return out

    # --- evaluating one signal ----------------------------------------------------------------
    def _verdict(self, signal: Signal, step: int) -> Verdict | None:
        history = self._history(signal, step)
        return detector.evaluate(
            history, step, self.config, signal.counter, typical=self._typical(signal, step)
        )

    def _history(self, signal: Signal, step: int) -> dict[int, float]:
        cfg = self.config
        reach = cfg.halfwidth + 4 * cfg.window
        ranges = [(step - cfg.recent - 4 * cfg.window, step)]
        ranges += [(step - k * PERIOD - reach, step - k * PERIOD + cfg.halfwidth)
                   for k in range(1, cfg.days + 1)]  # fmt: skip
        history: dict[int, float] = {}
        for first, last in ranges:
            minutes = self.core.minutes(signal.members, first * 5, last * 5 + 4)
            history.update(_steps(signal, minutes, first, last))
        return history

    def _typical(self, signal: Signal, step: int) -> tuple[float, float] | None:
        """The 2nd-98th percentile of hourly values over the last week, per 5-minute step."""
        hour = step * 5 // 60
        stats = self.core.hours(signal.members, hour - 7 * 24, hour - 1)
        per_hour = _hourly(signal, stats)
        if len(per_hour) < 24:
            return None
        ordered = sorted(per_hour)
        return ordered[int(0.02 * len(ordered))], ordered[int(0.98 * (len(ordered) - 1))]

    # --- lifecycle ----------------------------------------------------------------------------
    def _active(self) -> dict[str, dict[str, Any]]:
        rows = self.core.sql.exec(
            f"SELECT {COLUMNS} FROM anomalies WHERE state = 'active'"  # noqa: S608 - constant
        ).toArray()
        return {row["signal"]: row for row in rows}

    def _record(
        self, signal: Signal, verdict: Verdict, at_ms: int, found: dict[str, Any] | None
    ) -> dict[str, Any]:
        started = found["started_ms"] if found else at_ms
        subject = explain.describe(signal.metric, signal.fn, signal.labels)
        text = explain.explain(subject, verdict, at_ms, signal.unit, signal.counter, started)
        peak = max(abs(verdict.score), found["peak"] if found else 0.0)
        values = (verdict.kind, at_ms, verdict.value, verdict.expected, verdict.lower,
                  verdict.upper, verdict.score, peak, verdict.days, text)  # fmt: skip
        if found:
            self.core.sql.exec(
                "UPDATE anomalies SET kind = ?, last_ms = ?, value = ?, expected = ?, lower = ?, "
                "upper = ?, score = ?, peak = ?, days = ?, explanation = ?, calm = 0 WHERE id = ?",
                *values, found["id"],
            )  # fmt: skip
            return {**found, **dict(zip(_UPDATED, values, strict=True))}
        row = self.core.sql.exec(
            _INSERT,
            signal.key, signal.metric, signal.fn, json.dumps(signal.labels, sort_keys=True),
            signal.unit, started, *values,
        ).one()  # fmt: skip
        return dict(row)

    def _calm(self, found: dict[str, Any], at_ms: int) -> dict[str, Any] | None:
        calm = int(found["calm"]) + 1
        if calm < RESOLVE_AFTER:
            self.core.sql.exec("UPDATE anomalies SET calm = ? WHERE id = ?", calm, found["id"])
            return None
        self.core.sql.exec(
            "UPDATE anomalies SET calm = ?, state = 'resolved', ended_ms = ? WHERE id = ?",
            calm, at_ms, found["id"],
        )  # fmt: skip
        return {**found, "calm": calm, "state": "resolved", "ended_ms": at_ms}

    def list(
        self, state: str | None, since_ms: int, metric: str | None, limit: int
    ) -> list[dict[str, Any]]:
        clauses, params = ["last_ms >= ?"], [since_ms]
        if state:
            clauses.append("state = ?")
            params.append(state)  # type: ignore[arg-type]
        if metric:
            clauses.append("metric = ?")
            params.append(metric)  # type: ignore[arg-type]
        rows: list[dict[str, Any]] = self.core.sql.exec(
            f"SELECT {COLUMNS} FROM anomalies WHERE {' AND '.join(clauses)} "  # noqa: S608
            "ORDER BY state, last_ms DESC LIMIT ?",
            *params, limit,
        ).toArray()  # fmt: skip
        return rows


_INSERT = (  # a constant column list, no input
    "INSERT INTO anomalies (signal, metric, fn, labels, unit, state, started_ms, kind, last_ms, "  # noqa: S608
    "value, expected, lower, upper, score, peak, days, explanation, calm) "
    f"VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0) RETURNING {COLUMNS}"
)
_UPDATED = ("kind", "last_ms", "value", "expected", "lower", "upper", "score", "peak", "days",
            "explanation")  # fmt: skip


def _histogram_signals(family: str, members: list[Series]) -> Iterable[Signal]:
    groups: dict[str, list[Series]] = {}
    for series in members:
        if series.role in ("count", "sum"):
            key = json.dumps(
                {k: v for k, v in series.label_map.items() if k != "le"}, sort_keys=True
            )
            groups.setdefault(key, []).append(series)
    for key, group in sorted(groups.items()):
        labels = json.loads(key)
        counts = [s for s in group if s.role == "count"]
        yield Signal(family, "mean", labels, group, group[0].unit)
        if counts:
            yield Signal(family, "count", labels, counts, "")


def _steps(
    signal: Signal, minutes: dict[int, dict[int, float]], first: int, last: int
) -> dict[int, float]:
    """Per 5-minute step over [first, last]: sums (counters), means (gauges), sum/count."""
    totals: dict[int, list[float]] = {}
    for series in signal.members:
        for minute, value in minutes[series.id].items():
            slot = totals.setdefault(minute // 5, [0.0, 0.0, 0.0])  # value sum, count, hist sum
            if signal.fn == "mean":
                slot[1 if series.role == "count" else 2] += value
            else:
                slot[0] += value
                slot[1] += 1
    born = min(s.first_ms for s in signal.members) // STEP_MS
    out: dict[int, float] = {}
    for step in range(first, last + 1):
        found = totals.get(step)
        if signal.fn == "mean":
            if found and found[1] > 0:
                out[step] = found[2] / found[1]
        elif found:
            out[step] = found[0] / found[1] if signal.fn == "avg" else found[0]
        elif signal.counter and step >= born:
            out[step] = 0.0
    return out


def _hourly(
    signal: Signal, stats: dict[int, dict[int, tuple[float, float, float, float]]]
) -> list[float]:
    merged: dict[int, list[float]] = {}
    for series in signal.members:
        for hour, (count, total, _low, _high) in stats[series.id].items():
            slot = merged.setdefault(hour, [0.0, 0.0, 0.0])
            if signal.fn == "mean":
                slot[1 if series.role == "count" else 2] += total
            else:
                slot[0] += total
                slot[1] += count
    out = []
    for slot in merged.values():
        if signal.fn == "mean":
            if slot[1] > 0:
                out.append(slot[2] / slot[1])
        elif signal.fn == "avg":
            out.append(slot[0] / slot[1])
        else:
            out.append(slot[0] / 12)  # an hour's increase, per 5-minute step
    return out
