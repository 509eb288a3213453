"""Configuration and rules: replace them (validated as a whole) and run the rule cycle."""

from __future__ import annotations

from typing import Any

from alerting import config as config_module
from alerting.evaluation import evaluate
from alerting.hub import retention
from alerting.hub.alerts import Alert
from alerting.hub.base import SAMPLE_RETENTION_MS
from alerting.hub.lifecycle import Lifecycle
from alerting.intake import normalize
from alerting.rules import parse_rules
from obs_schema import host
from obs_schema.models.alert import AlertEvent


class Configuring(Lifecycle):
    # --- configuration and rules --------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return self.config.redacted()

    def put_config(self, document: dict[str, Any]) -> dict[str, Any]:
        parsed = config_module.parse(document, self.config.document)
        self.db.put_setting("config", dict(parsed.document))
        self._config = parsed
        return parsed.redacted()

    def get_rules(self) -> dict[str, Any]:
        states = self.rule_states.summary()
        return {
            "rules": [
                {**rule.to_dict(), "instances": states.get(rule.name, {})} for rule in self.rules
            ]
        }

    def put_rules(self, document: Any) -> dict[str, Any]:
        rules = parse_rules(document)
        self.db.put_setting("rules", [rule.to_dict() for rule in rules])
        self._rules = rules
        return self.get_rules()

    def evaluate(
        self, snapshots: dict[str, Any], available: list[str], now_ms: int | None = None
    ) -> dict[str, Any]:
        now_ms = host.now_ms() if now_ms is None else now_ms
        states = self.rule_states.load()
        new_states, events, samples = {}, [], {}
        for rule in self.rules:
            outcome = evaluate(
                rule,
                snapshots,
                set(available),
                states.get(rule.name, {}),
                now_ms,
                self.rule_states.past,
            )
            new_states[rule.name] = outcome.states
            events += outcome.events
            samples.update(outcome.samples)
        for name in set(states) - set(new_states):
            self._retire(name, now_ms)
        self.rule_states.replace(new_states)
        self.rule_states.record(samples, now_ms)
        self.rule_states.prune(now_ms - SAMPLE_RETENTION_MS)
        if retention.due(self.db, now_ms):
            retention.prune(self.db, now_ms)
        normalized = [normalize(AlertEvent.model_validate(e)) for e in events]
        result = self.ingest(normalized)
        return {"rules": len(self.rules), "events": len(normalized), **result}

    def _retire(self, rule: str, now_ms: int) -> None:
        """A rule that was removed resolves the alerts it had firing."""
        rows = self.db.rows(
            "SELECT * FROM alerts WHERE source = 'rules' AND name = ? AND status != 'resolved'",
            rule,
        )
        for row in rows:
            self._resolve(Alert.from_row(row), now_ms, "rule removed", now_ms)
