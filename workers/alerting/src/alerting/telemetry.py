"""The alerting Worker's own series on /metrics (besides the shared HTTP series)."""

from __future__ import annotations

from obs_schema.metrics import Counter, Gauge, Registry


class AlertingMetrics:
    def __init__(self, registry: Registry) -> None:
        self.events = Counter(
            "alerting_events_total",
            "Alert events received, by way in (http, alertmanager, rpc, rules) and outcome.",
            ("via", "outcome"),
            registry=registry,
        )
        self.alerts = Gauge(
            "alerting_alerts",
            "Alerts by lifecycle status, as of the last intake or listing.",
            ("status",),
            registry=registry,
        )
        self.notifications = Gauge(
            "alerting_notifications",
            "Notifications by delivery state (pending, delivered, failed), as of the last intake.",
            ("state",),
            registry=registry,
        )
        self.rule_cycles = Counter(
            "alerting_rule_cycles_total",
            "Rule evaluation cycles run by the cron, by outcome.",
            ("outcome",),
            registry=registry,
        )

    def counted(self, via: str, accepted: int, rejected: int) -> None:
        if accepted:
            self.events.labels(via=via, outcome="accepted").inc(accepted)
        if rejected:
            self.events.labels(via=via, outcome="rejected").inc(rejected)

    def observe(self, stats: dict[str, dict[str, int]]) -> None:
        for status, count in stats.get("alerts", {}).items():
            self.alerts.labels(status=status).set(count)
        for state in ("pending", "delivered", "failed"):
            self.notifications.labels(state=state).set(stats.get("notifications", {}).get(state, 0))
