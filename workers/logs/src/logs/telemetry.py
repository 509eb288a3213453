"""The logs Worker's own series on `/logs/metrics` (per isolate, like every series there)."""

from __future__ import annotations

from obs_schema.metrics import Counter, Registry


class Telemetry:
    def __init__(self, registry: Registry) -> None:
        self.records = Counter(
            "logs_records_received_total",
            "Log records received, by source (http, otlp) and outcome (accepted, rejected).",
            ("source", "outcome"),
            registry=registry,
        )
        self.searches = Counter(
            "logs_searches_total",
            "Read requests, by kind (query, archive, trace, stats, tail).",
            ("kind",),
            registry=registry,
        )

    def received(self, source: str, accepted: int, rejected: int) -> None:
        self.records.labels(source=source, outcome="accepted").inc(accepted)
        self.records.labels(source=source, outcome="rejected").inc(rejected)

    def searched(self, kind: str) -> None:
        self.searches.labels(kind=kind).inc()
