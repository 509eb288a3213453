"""The APM's configuration and threshold-alert state (one Durable Object: read-your-writes).

Configuration is small and read on every summary and cron run; its writes must be visible at
once and alert state transitions must not race, which is what a Durable Object gives and KV
(eventually consistent, one write per second per key) does not.
"""

from __future__ import annotations

import json
from typing import Any

DEFAULTS: dict[str, Any] = {
    "apdex_t_ms": 500.0,
    "n_plus_one_min": 5,
    "sampling": {"keep_fraction": 1.0, "latency_ms": 1000.0, "decision_wait_s": 60.0},
    "thresholds": [],
}

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS config (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS alert_state (rule_id TEXT NOT NULL, service TEXT NOT NULL,"
    " route TEXT NOT NULL, firing INTEGER NOT NULL, since_ms INTEGER NOT NULL, value REAL,"
    " PRIMARY KEY (rule_id, service, route))",
)


class ControlStore:
    def __init__(self, sql: Any) -> None:
        self.sql = sql
        for statement in SCHEMA:
            sql.exec(statement)

    def config(self) -> dict[str, Any]:
        stored = {
            row["name"]: json.loads(row["value"])
            for row in self.sql.exec("SELECT name, value FROM config")
        }
        return {**DEFAULTS, **stored}

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        for name, value in changes.items():
            if name in DEFAULTS:
                self.sql.exec(
                    "INSERT OR REPLACE INTO config (name, value) VALUES (?, ?)",
                    name,
                    json.dumps(value),
                )
        if "thresholds" in changes:  # states of rules that no longer exist go with them
            ids = json.dumps([rule["id"] for rule in changes["thresholds"]])
            self.sql.exec(
                "DELETE FROM alert_state WHERE rule_id NOT IN (SELECT value FROM json_each(?))",
                ids,
            )
        return self.config()

    def states(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.sql.exec(
            "SELECT rule_id, service, route, firing, since_ms, value FROM alert_state"
        ).toArray()
        return found

    def set_state(
        self, rule_id: str, service: str, route: str, firing: bool, since_ms: int, value: Any
    ) -> None:
        self.sql.exec(
            "INSERT OR REPLACE INTO alert_state (rule_id, service, route, firing, since_ms,"
            " value) VALUES (?, ?, ?, ?, ?, ?)",
            rule_id,
            service,
            route,
            1 if firing else 0,
            since_ms,
            None if value is None else float(value),
        )
