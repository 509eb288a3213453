"""Rate-limit state of one shard: counters and logs in the object's SQLite, cached in memory.

A Durable Object runs one event at a time, so read-decide-write here is atomic per key: limits
hold however many requests arrive at once. The cache saves the read; every decision still
writes its row, so a restarted object resumes where it stopped.
"""

from __future__ import annotations

import json
from typing import Any

from security.limit.window import (
    CounterState,
    Decision,
    LogState,
    roll,
    sliding_counter,
    sliding_log,
)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rl_counter (rule TEXT NOT NULL, key TEXT NOT NULL, "
    "window_ms INTEGER NOT NULL, start_ms INTEGER NOT NULL, cur INTEGER NOT NULL, "
    "prev INTEGER NOT NULL, PRIMARY KEY (rule, key))",
    "CREATE TABLE IF NOT EXISTS rl_log (rule TEXT NOT NULL, key TEXT NOT NULL, "
    "window_ms INTEGER NOT NULL, times TEXT NOT NULL, last_ms INTEGER NOT NULL, "
    "PRIMARY KEY (rule, key))",
)
MAX_CACHED = 20_000
SWEEP_EVERY = 2_000


class LimiterStore:
    def __init__(self, sql: Any) -> None:
        self.sql = sql
        for statement in SCHEMA:
            sql.exec(statement)
        self._counters: dict[tuple[str, str], tuple[int, CounterState]] = {}
        self._logs: dict[tuple[str, str], tuple[int, LogState]] = {}
        self._decisions = 0
        self._admitted: dict[tuple[str, str], tuple[int, CounterState]] = {}  # to write

    def decide(self, rule: dict[str, Any], key: str, now_ms: int, cost: int = 1) -> Decision:
        rule_id, limit = str(rule["id"]), int(rule["limit"])
        window_ms = int(rule["window_s"]) * 1000
        self._decisions += 1
        if self._decisions % SWEEP_EVERY == 0:
            self.sweep(now_ms)
        if rule.get("mode") == "exact":
            log = self._log(rule_id, key, window_ms)
            decision = sliding_log(log, now_ms, limit, window_ms, cost)
            self.sql.exec(
                "INSERT OR REPLACE INTO rl_log VALUES (?, ?, ?, ?, ?)",
                rule_id,
                key,
                window_ms,
                json.dumps(log.times_ms),
                now_ms,
            )
            return decision
        counter = self._counter(rule_id, key, window_ms)
        decision = sliding_counter(counter, now_ms, limit, window_ms, cost)
        self._write_counter(rule_id, key, window_ms, counter)
        return decision

    def counter_state(self, rule_id: str, key: str, window_ms: int) -> CounterState:
        """The sliding counter of a key as it stands (isolates keep a copy to decide on)."""
        return self._counter(rule_id, key, window_ms)

    def admit(self, rule: dict[str, Any], key: str, now_ms: int, cost: int = 1) -> CounterState:
        """Count `cost` requests an isolate already admitted on its copy of this counter (see
        security.front): counted, not decided - they were let through. The row is written by
        `write_admitted`, once per key for a whole batch."""
        rule_id, window_ms = str(rule["id"]), int(rule["window_s"]) * 1000
        counter = self._counter(rule_id, key, window_ms)
        roll(counter, now_ms, window_ms)
        counter.current += cost
        self._admitted[(rule_id, key)] = (window_ms, counter)
        return counter

    def write_admitted(self) -> None:
        for (rule_id, key), (window_ms, counter) in self._admitted.items():
            self._write_counter(rule_id, key, window_ms, counter)
        self._admitted.clear()

    def _write_counter(self, rule_id: str, key: str, window_ms: int, counter: CounterState) -> None:
        self.sql.exec(
            "INSERT OR REPLACE INTO rl_counter VALUES (?, ?, ?, ?, ?, ?)",
            rule_id,
            key,
            window_ms,
            counter.window_start_ms,
            counter.current,
            counter.previous,
        )

    def _counter(self, rule_id: str, key: str, window_ms: int) -> CounterState:
        cached = self._counters.get((rule_id, key))
        if cached is not None and cached[0] == window_ms:
            return cached[1]
        state = CounterState()
        rows = self.sql.exec(
            "SELECT window_ms, start_ms, cur, prev FROM rl_counter WHERE rule = ? AND key = ?",
            rule_id,
            key,
        ).toArray()
        if rows and int(rows[0]["window_ms"]) == window_ms:  # a changed window starts afresh
            row = rows[0]
            state = CounterState(int(row["start_ms"]), int(row["cur"]), int(row["prev"]))
        self._remember(self._counters, (rule_id, key), (window_ms, state))
        return state

    def _log(self, rule_id: str, key: str, window_ms: int) -> LogState:
        cached = self._logs.get((rule_id, key))
        if cached is not None and cached[0] == window_ms:
            return cached[1]
        state = LogState()
        rows = self.sql.exec(
            "SELECT window_ms, times FROM rl_log WHERE rule = ? AND key = ?", rule_id, key
        ).toArray()
        if rows and int(rows[0]["window_ms"]) == window_ms:
            state = LogState([int(t) for t in json.loads(rows[0]["times"])])
        self._remember(self._logs, (rule_id, key), (window_ms, state))
        return state

    @staticmethod
    def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
        if len(cache) >= MAX_CACHED:
            cache.clear()  # rows are the truth; the cache only saves reads
        cache[key] = value

    def sweep(self, now_ms: int) -> None:
        """Forget keys idle for two windows: they would count as zero anyway."""
        self.sql.exec("DELETE FROM rl_counter WHERE start_ms + 2 * window_ms < ?", now_ms)
        self.sql.exec("DELETE FROM rl_log WHERE last_ms + window_ms < ?", now_ms)
        self._counters.clear()
        self._logs.clear()
