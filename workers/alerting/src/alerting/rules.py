"""Alert rules over the other Workers' numbers: threshold with `for`, rate of change, absence.

A rule reads one metric path into the Workers' `snapshot()` results, e.g.
`apm.error_rate_5m` or `apm.by_service_5m.*.p95_ms`, where `*` takes every key at that level and
becomes a label (`service` by default), so one rule watches every service. Kinds:

- `threshold`: `value <op> threshold` must hold for `for` (pending, then firing);
- `rate_of_change`: the change since `window` ago (`relative`, `absolute`, or `per_minute`)
  compared with the threshold, also with `for`;
- `absence`: no value at all (the key is missing, null, or its Worker did not answer) for `for`.

`{value}`, `{threshold}` and `{<label>}` in annotations are filled in when the rule fires.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from alerting.problems import (
    Problems,
    duration_ms,
    format_duration,
    listing,
    mapping,
    text,
    unknown_keys,
)

KINDS = ("threshold", "rate_of_change", "absence")
OPS = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
CHANGES = ("relative", "absolute", "per_minute")
SEVERITIES = ("critical", "error", "warning", "info")
SOURCES = ("monitoring", "logs", "apm", "infra", "security", "alerting")
MAX_RULES = 5000
MAX_WINDOW_MS = 24 * 3_600_000
_SEGMENT = re.compile(r"[A-Za-z0-9_\-]+|\*")
_FIELDS = {"name", "kind", "metric", "label", "op", "threshold", "for", "window", "change"}
_FIELDS |= {"severity", "labels", "annotations", "enabled"}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    metric: str
    threshold: float = 0.0
    op: str = ">"
    for_ms: int = 0
    window_ms: int = 0
    change: str = "relative"
    label: str = "service"
    severity: str = "warning"
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True

    @property
    def source(self) -> str:
        return self.metric.split(".", 1)[0]

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.metric.split("."))

    def holds(self, value: float) -> bool:
        return bool(OPS[self.op](value, self.threshold))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "metric": self.metric}
        if self.kind != "absence":
            out.update(op=self.op, threshold=self.threshold)
        if self.kind == "rate_of_change":
            out.update(window=format_duration(self.window_ms), change=self.change)
        if "*" in self.segments:
            out["label"] = self.label
        out.update(
            {
                "for": format_duration(self.for_ms),
                "severity": self.severity,
                "enabled": self.enabled,
            }
        )
        out.update(labels=dict(self.labels), annotations=dict(self.annotations))
        return out


def render(template: str, values: Mapping[str, str]) -> str:
    """`{value}` and friends filled in; unknown placeholders stay as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def parse_rules(document: object) -> tuple[Rule, ...]:
    """`{"rules": [...]}` or a bare list; `Invalid` lists every problem."""
    problems = Problems()
    raw = document.get("rules") if isinstance(document, Mapping) else document
    items = problems.check(lambda: listing(raw, "rules"), "rules") or []
    if len(items) > MAX_RULES:
        problems.add(f"at most {MAX_RULES} rules", "rules")
    rules: list[Rule] = []
    names: set[str] = set()
    for index, item in enumerate(items[:MAX_RULES]):
        with problems.at("rules", index):
            rule = _rule(item, problems)
        if rule is not None:
            if rule.name in names:
                problems.add("another rule has this name", "rules", index, "name")
            names.add(rule.name)
            rules.append(rule)
    problems.raise_if_any()
    return tuple(rules)


def _rule(item: object, problems: Problems) -> Rule | None:
    data = problems.check(lambda: mapping(item, "a rule"))
    if data is None:
        return None
    unknown_keys(data, _FIELDS, problems)
    name = problems.check(lambda: text(data.get("name"), "name", max_chars=200), "name")
    kind = data.get("kind", "threshold")
    if kind not in KINDS:
        problems.add(f"must be one of {', '.join(KINDS)}", "kind")
        return None
    metric = problems.check(lambda: _metric(data.get("metric")), "metric")
    settings = _settings(data, kind, problems)
    labels = problems.check(lambda: _strings(data.get("labels", {}), "labels"), "labels")
    annotations = problems.check(
        lambda: _strings(data.get("annotations", {}), "annotations"), "annotations"
    )
    if None in (name, metric, settings, labels, annotations):
        return None
    assert name and metric and settings is not None and labels is not None
    return Rule(
        name=name,
        kind=kind,
        metric=metric,
        labels=labels,
        annotations=annotations or {},
        **settings,
    )


def _settings(data: Mapping[str, Any], kind: str, problems: Problems) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    ok = True
    if kind != "absence":
        threshold = data.get("threshold")
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            problems.add("a number is required", "threshold")
            ok = False
        else:
            out["threshold"] = float(threshold)
        op = data.get("op", ">")
        if op not in OPS:
            problems.add(f"must be one of {' '.join(OPS)}", "op")
            ok = False
        out["op"] = op
    default_for = "5m" if kind == "absence" else "0s"
    for_ms = problems.check(lambda: duration_ms(data.get("for", default_for), "for"), "for")
    ok = ok and for_ms is not None
    out["for_ms"] = for_ms or 0
    if kind == "rate_of_change":
        window = problems.check(lambda: duration_ms(data.get("window"), "window"), "window")
        if window is not None and not 60_000 <= window <= MAX_WINDOW_MS:
            problems.add("a window lasts from 1m to 24h", "window")
            window = None
        change = data.get("change", "relative")
        if change not in CHANGES:
            problems.add(f"must be one of {', '.join(CHANGES)}", "change")
        ok = ok and window is not None and change in CHANGES
        out.update(window_ms=window or 0, change=change)
    return _common(data, out, problems) if ok else None


def _common(
    data: Mapping[str, Any], out: dict[str, Any], problems: Problems
) -> dict[str, Any] | None:
    severity = data.get("severity", "warning")
    enabled = data.get("enabled", True)
    label = data.get("label", "service")
    if severity not in SEVERITIES:
        problems.add(f"must be one of {', '.join(SEVERITIES)}", "severity")
        return None
    if not isinstance(enabled, bool):
        problems.add("must be true or false", "enabled")
        return None
    if not isinstance(label, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", label):
        problems.add("must be a label name", "label")
        return None
    return {**out, "severity": severity, "enabled": enabled, "label": label}


def _metric(value: object) -> str:
    path = text(value, "metric", max_chars=256)
    segments = path.split(".")
    if segments[0] not in SOURCES:
        raise ValueError(f"a metric path starts with a Worker: {', '.join(SOURCES)}")
    if len(segments) < 2 or not all(_SEGMENT.fullmatch(s) for s in segments):
        raise ValueError("a metric path is dot-separated keys, e.g. apm.by_service_5m.*.p95_ms")
    if segments.count("*") > 1:
        raise ValueError("at most one * per metric path")
    return path


def _strings(value: object, what: str) -> dict[str, str]:
    data = mapping(value, what)
    if len(data) > 32 or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError(f"{what} maps names to strings (at most 32)")
    if any(len(v) > 4096 for v in data.values()):
        raise ValueError(f"{what} values are at most 4096 characters")
    return dict(data)
