"""The security Worker's own series, registered in the app's registry so the shared
`/security/metrics` shows them beside the HTTP series (text and `?format=json`).

Counters count what this isolate decided. Gauges of state that lives in Durable Objects
(active blocks, top offenders) are refreshed by the minute cron and after changes.
"""

from __future__ import annotations

from collections.abc import Iterable

from obs_schema.metrics import Counter, Gauge, MetricFamily, Registry, Sample


class Leaderboard(Gauge):
    """A gauge whose whole set of series is replaced at once (top-N lists): a source that
    left the top N disappears instead of lingering at its last value."""

    def replace(self, rows: Iterable[tuple[dict[str, str], float]]) -> None:
        self._children.clear()
        for labels, value in rows:
            self.labels(**labels).set(value)

    def collect(self) -> MetricFamily:
        family = super().collect()
        return MetricFamily(
            family.name,
            family.type,
            family.help,
            tuple(s for s in family.samples if isinstance(s, Sample)),
        )


class Telemetry:
    def __init__(self, registry: Registry) -> None:
        self.checks = Counter(
            "security_checks_total",
            "Requests inspected by /security/check, by action taken.",
            ("action",),
            registry=registry,
        )
        self.threats = Counter(
            "security_threats_total",
            "Threat matches in inspected requests, by threat type.",
            ("type",),
            registry=registry,
        )
        self.rules = Counter(
            "security_rule_matches_total",
            "Detection rule matches, by rule id.",
            ("rule",),
            registry=registry,
        )
        self.rate_limited = Counter(
            "security_rate_limit_hits_total",
            "Requests over a rate limit, by rule id.",
            ("rule",),
            registry=registry,
        )
        self.anomalies = Counter(
            "security_anomalies_total",
            "Behavioural anomalies detected, by type.",
            ("type",),
            registry=registry,
        )
        self.incidents = Counter(
            "security_incident_actions_total",
            "Incident thresholds crossed, by what followed (alert, block).",
            ("action",),
            registry=registry,
        )
        self.alerts = Counter(
            "security_alerts_total",
            "Incident alerts sent to the alerting Worker, by result.",
            ("result",),
            registry=registry,
        )
        self.blocks_created = Counter(
            "security_blocks_created_total",
            "Blocks and allows created, by source (auto, manual).",
            ("source",),
            registry=registry,
        )
        self.blocked_requests = Counter(
            "security_blocked_requests_total",
            "Requests refused by an existing block, by its source.",
            ("source",),
            registry=registry,
        )
        self.blocks_active = Gauge(
            "security_blocks_active",
            "Blocks and allows in force, by kind.",
            ("kind",),
            registry=registry,
        )
        self.intel_networks = Gauge(
            "security_intel_networks",
            "Networks loaded from threat-intelligence blocklists.",
            registry=registry,
        )
        self.top_sources = Leaderboard(
            "security_top_source_score",
            "Event score of the top offending sources (last hour).",
            ("ip",),
            registry=registry,
        )
        self.top_routes = Leaderboard(
            "security_top_route_score",
            "Event score of the most attacked routes (last hour).",
            ("route",),
            registry=registry,
        )
