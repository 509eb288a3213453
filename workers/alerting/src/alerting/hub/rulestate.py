"""Rule instance states and the samples rate-of-change rules look back at."""

from __future__ import annotations

from collections.abc import Mapping

from alerting.evaluation import Instance
from alerting.hub.db import Db, dumps

# A reference sample may be this much older than `window` ago (evaluation is once a minute).
LOOKBACK_SLACK_MS = 150_000


class RuleStates:
    def __init__(self, db: Db) -> None:
        self.db = db

    def load(self) -> dict[str, dict[str, Instance]]:
        states: dict[str, dict[str, Instance]] = {}
        for row in self.db.rows("SELECT * FROM rule_state"):
            instance = Instance(row["state"], int(row["since_ms"]), row["value"])
            states.setdefault(row["rule"], {})[row["instance"]] = instance
        return states

    def replace(self, states: Mapping[str, Mapping[str, Instance]]) -> None:
        """Every rule's states at once (rules that are gone lose theirs)."""
        self.db.run("DELETE FROM rule_state")
        rows = [
            [rule, key, i.state, i.since_ms, i.value]
            for rule, instances in states.items()
            for key, i in instances.items()
        ]
        for start in range(0, len(rows), 2000):
            self.db.run(
                "INSERT INTO rule_state (rule, instance, state, since_ms, value) "
                "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
                "json_extract(value, '$[2]'), json_extract(value, '$[3]'), "
                "json_extract(value, '$[4]') FROM json_each(?)",
                dumps(rows[start : start + 2000]),
            )

    def record(self, samples: Mapping[str, float], now_ms: int) -> None:
        rows = [[metric, now_ms, value] for metric, value in samples.items()]
        for start in range(0, len(rows), 2000):
            self.db.run(
                "INSERT OR REPLACE INTO samples (metric, at_ms, value) "
                "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
                "json_extract(value, '$[2]') FROM json_each(?)",
                dumps(rows[start : start + 2000]),
            )

    def past(self, metric: str, at_ms: int) -> float | None:
        """The latest sample at or before `at_ms`, if it is recent enough to compare with."""
        row = self.db.one(
            "SELECT value FROM samples WHERE metric = ? AND at_ms <= ? AND at_ms >= ? "
            "ORDER BY at_ms DESC LIMIT 1",
            metric, at_ms, at_ms - LOOKBACK_SLACK_MS,
        )  # fmt: skip
        return None if row is None else float(row["value"])

    def prune(self, before_ms: int) -> None:
        self.db.run("DELETE FROM samples WHERE at_ms < ?", before_ms)

    def summary(self) -> dict[str, dict[str, dict[str, object]]]:
        out: dict[str, dict[str, dict[str, object]]] = {}
        for rule, instances in self.load().items():
            out[rule] = {
                key: {"state": i.state, "since_ms": i.since_ms, "value": i.value}
                for key, i in instances.items()
            }
        return out
