"""Threshold rules per service/route, evaluated every minute; breaches and recoveries (pure).

A rule watches one service (all its routes merged) or one service and route:
`p95`/`p99` above `threshold` ms, `error_rate` above `threshold` percent, `apdex` below
`threshold`, or `no_traffic`: no request for `threshold` minutes. Latency, error and Apdex rules
need `min_requests` in the window before they can fire, so one slow request at 3 a.m. does not
page anyone. Only transitions produce alerts: firing once, resolved once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apm.statstore import Total
from apm.summary import apdex, describe

METRICS = ("p95", "p99", "error_rate", "apdex", "no_traffic")
ALERT_NAMES = {
    "p95": "ApmLatencyP95High",
    "p99": "ApmLatencyP99High",
    "error_rate": "ApmErrorRateHigh",
    "apdex": "ApmApdexLow",
    "no_traffic": "ApmNoTraffic",
}


@dataclass(frozen=True)
class Rule:
    id: str
    service: str
    metric: str
    threshold: float
    route: str | None = None
    window_minutes: int = 5
    min_requests: int = 1
    severity: str = "warning"

    @classmethod
    def of(cls, data: dict[str, Any]) -> Rule:
        return cls(
            id=str(data["id"]),
            service=str(data["service"]),
            metric=str(data["metric"]),
            threshold=float(data["threshold"]),
            route=data.get("route"),
            window_minutes=int(data.get("window_minutes", 5)),
            min_requests=int(data.get("min_requests", 1)),
            severity=str(data.get("severity", "warning")),
        )

    @property
    def minutes(self) -> int:
        """The window evaluated: `no_traffic` looks back `threshold` minutes."""
        return max(1, int(self.threshold)) if self.metric == "no_traffic" else self.window_minutes


def measure(rule: Rule, total: Total, apdex_t_ms: float) -> tuple[bool, float | None]:
    """Whether `total` breaches the rule, and the value compared."""
    if rule.metric == "no_traffic":
        return total.count == 0, float(total.count)
    if rule.metric in ("p95", "p99"):
        value = total.sketch.quantile(0.95 if rule.metric == "p95" else 0.99)
        return total.count >= rule.min_requests and (value or 0.0) > rule.threshold, value
    if rule.metric == "error_rate":
        rate = 100.0 * total.errors / total.count if total.count else None
        return total.count >= rule.min_requests and (rate or 0.0) > rule.threshold, rate
    if rule.metric == "apdex":
        score = apdex(total, apdex_t_ms)
        breached = total.count >= rule.min_requests and score is not None
        return breached and score is not None and score < rule.threshold, score
    raise ValueError(f"unknown threshold metric {rule.metric!r}")


def alert(
    rule: Rule,
    firing: bool,
    value: float | None,
    total: Total,
    trace_ids: list[str],
    since_ms: int,
    now_ms: int,
    apdex_t_ms: float,
) -> dict[str, Any]:
    """An `AlertEvent` as a dict: labels identify the rule and target, annotations carry the
    numbers of the evaluated window and example traces."""
    target = rule.service + (f" {rule.route}" if rule.route else "")
    shown = "none" if value is None else f"{value:.4g}"
    numbers = describe(total, rule.minutes, apdex_t_ms)
    labels = {"service": rule.service, "rule": rule.id, "metric": rule.metric}
    if rule.route:
        labels["route"] = rule.route
    verb = "below" if rule.metric == "apdex" else "above"
    if rule.metric == "no_traffic":
        summary = f"{target}: no requests for {rule.minutes} minutes"
    else:
        summary = f"{target}: {rule.metric} {shown} {verb} {rule.threshold:g}"
    annotations: dict[str, Any] = {
        "summary": summary if firing else f"resolved: {summary}",
        "description": (
            f"APM threshold rule {rule.id!r} over the last {rule.minutes} min: "
            + ", ".join(f"{k}={v}" for k, v in numbers.items())
        ),
        "value": shown,
        "threshold": f"{rule.threshold:g}",
        "window_minutes": str(rule.minutes),
        "requests": str(total.count),
        "errors": str(total.errors),
        "p95_ms": str(numbers["p95_ms"]),
        "p99_ms": str(numbers["p99_ms"]),
        "example_trace_ids": ",".join(trace_ids),
    }
    return {
        "name": ALERT_NAMES[rule.metric],
        "severity": rule.severity,
        "labels": labels,
        "annotations": annotations,
        "source": "apm",
        "status": "firing" if firing else "resolved",
        "starts_at": since_ms,
        "ends_at": None if firing else now_ms,
    }
