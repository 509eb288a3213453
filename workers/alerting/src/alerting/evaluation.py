"""One evaluation cycle of a rule: read its values, move each instance's state, emit alerts.

An instance is one value of the rule (one per service for `apm.by_service_5m.*.p95_ms`). Its
state is `pending` (condition true, `for` not yet over), `firing`, or, for absence rules,
`ok` (seen with data, remembered so that its disappearance counts). A firing instance is sent
as a firing alert on every cycle, as Prometheus re-sends, so its value stays current and a
hand-resolved alert whose condition still holds fires again; it is resolved when the condition
stops holding or, as in Prometheus, when its key disappears. When a Worker does not answer,
its rules (other than absence rules) are skipped and keep their state: an outage of the
source is not a recovery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from alerting.rules import Rule, render
from obs_schema.timespec import format_rfc3339

Past = Callable[[str, int], float | None]  # (concrete metric path, at ms) -> value then


@dataclass(frozen=True)
class Instance:
    state: str  # ok | pending | firing
    since_ms: int
    value: float | None = None


@dataclass
class Outcome:
    states: dict[str, Instance]
    events: list[dict[str, Any]]
    samples: dict[str, float]  # concrete path -> value, for later rate-of-change lookups


def lookup(snapshots: Mapping[str, Any], segments: tuple[str, ...]) -> dict[str, float | None]:
    """Values at a path; `*` expands to every key there. Missing keys are simply absent."""
    found: dict[str, float | None] = {}

    def walk(node: Any, rest: tuple[str, ...], key: str) -> None:
        if not rest:
            if node is None or (isinstance(node, int | float) and not isinstance(node, bool)):
                found[key] = None if node is None else float(node)
            return
        if not isinstance(node, Mapping):
            return
        head, tail = rest[0], rest[1:]
        if head == "*":
            for name, child in node.items():
                walk(child, tail, str(name))
        elif head in node:
            walk(node[head], tail, key)

    walk(snapshots, segments, "")
    return found


def concrete(rule: Rule, key: str) -> str:
    return ".".join(key if s == "*" else s for s in rule.segments)


def evaluate(
    rule: Rule,
    snapshots: Mapping[str, Any],
    available: set[str],
    states: Mapping[str, Instance],
    now_ms: int,
    past: Past,
) -> Outcome:
    if not rule.enabled:
        events = [
            _event(rule, k, i, now_ms, firing=False)
            for k, i in states.items()
            if i.state == "firing"
        ]
        return Outcome({}, events, {})
    if rule.kind == "absence":
        return _absence(rule, snapshots, available, dict(states), now_ms)
    if rule.source not in available:
        return Outcome(dict(states), [], {})
    values = lookup(snapshots, rule.segments)
    samples = {concrete(rule, k): v for k, v in values.items() if v is not None}
    if rule.kind == "rate_of_change":
        values = {k: _change(rule, k, v, now_ms, past) for k, v in values.items()}
        # No reference value yet (a new instance): nothing to judge, the state stays.
        values = {k: v for k, v in values.items() if v is not None}
        kept = {k: i for k, i in states.items() if k not in values and k in samples}
    else:
        kept = {}
    rest = {k: i for k, i in states.items() if k not in kept}
    outcome = _conditions(rule, values, rest, now_ms)
    outcome.states.update(kept)
    outcome.samples = samples
    return outcome


def _change(rule: Rule, key: str, value: float | None, now_ms: int, past: Past) -> float | None:
    if value is None:
        return None
    before = past(concrete(rule, key), now_ms - rule.window_ms)
    if before is None:
        return None
    if rule.change == "absolute":
        return value - before
    if rule.change == "per_minute":
        return (value - before) / (rule.window_ms / 60_000)
    if before == 0:
        return 0.0 if value == 0 else float("inf") if value > 0 else float("-inf")
    return (value - before) / abs(before)


def _conditions(
    rule: Rule, values: Mapping[str, float | None], states: dict[str, Instance], now_ms: int
) -> Outcome:
    out: dict[str, Instance] = {}
    events: list[dict[str, Any]] = []
    for key, value in values.items():
        previous = states.pop(key, None)
        held = value is not None and rule.holds(value)
        instance = _step(rule, previous, held, value, now_ms)
        if instance is not None:
            out[key] = instance
            if instance.state == "firing":
                events.append(_event(rule, key, instance, now_ms, firing=True))
        elif previous is not None and previous.state == "firing":
            events.append(_event(rule, key, replace(previous, value=value), now_ms, firing=False))
    # Instances evaluated before that have no value now: resolved (Prometheus), or forgotten.
    for key, previous in states.items():
        if previous.state == "firing":
            events.append(_event(rule, key, previous, now_ms, firing=False))
    return Outcome(out, events, {})


def _step(
    rule: Rule, current: Instance | None, held: bool, value: float | None, now_ms: int
) -> Instance | None:
    if not held:
        return None
    if current is None or current.state == "ok":
        state = "firing" if rule.for_ms == 0 else "pending"
        return Instance(state, now_ms, value)
    if current.state == "pending" and now_ms - current.since_ms >= rule.for_ms:
        return Instance("firing", now_ms, value)
    return replace(current, value=value)


def _absence(
    rule: Rule,
    snapshots: Mapping[str, Any],
    available: set[str],
    states: dict[str, Instance],
    now_ms: int,
) -> Outcome:
    values = lookup(snapshots, rule.segments) if rule.source in available else {}
    present = {k for k, v in values.items() if v is not None}
    # A plain path is always watched; a `*` path watches the keys it has seen.
    keys = present | set(states) | (set() if "*" in rule.segments else {""})
    out: dict[str, Instance] = {}
    events: list[dict[str, Any]] = []
    for key in sorted(keys):
        previous = states.get(key)
        if key in present:
            out[key] = Instance("ok", now_ms, values[key])
            if previous is not None and previous.state == "firing":
                events.append(_event(rule, key, previous, now_ms, firing=False))
            continue
        missing = (
            Instance("pending", now_ms) if previous is None or previous.state == "ok" else previous
        )
        if missing.state == "pending" and now_ms - missing.since_ms >= rule.for_ms:
            missing = Instance("firing", now_ms)
        out[key] = missing
        if missing.state == "firing":
            events.append(_event(rule, key, missing, now_ms, firing=True))
    return Outcome(out, events, {})


def _event(
    rule: Rule, key: str, instance: Instance, now_ms: int, *, firing: bool
) -> dict[str, Any]:
    labels = dict(rule.labels)
    if "*" in rule.segments:
        labels[rule.label] = key
    value = "none" if instance.value is None else f"{instance.value:g}"
    fill = {
        **labels,
        "value": value,
        "threshold": f"{rule.threshold:g}",
        "metric": concrete(rule, key),
    }
    annotations = {name: render(template, fill) for name, template in rule.annotations.items()}
    annotations.setdefault("summary", _summary(rule, fill))
    event: dict[str, Any] = {
        "name": rule.name,
        "severity": rule.severity,
        "labels": labels,
        "annotations": annotations,
        "source": "rules",
        "status": "firing" if firing else "resolved",
        "starts_at": format_rfc3339(instance.since_ms / 1000),
    }
    if not firing:
        event["ends_at"] = format_rfc3339(now_ms / 1000)
    return event


def _summary(rule: Rule, fill: Mapping[str, str]) -> str:
    if rule.kind == "absence":
        return f"no data for {fill['metric']}"
    if rule.kind == "rate_of_change":
        change = f"{fill['value']} ({rule.change})"
        return f"{fill['metric']} changed by {change} {rule.op} {fill['threshold']}"
    return f"{fill['metric']} = {fill['value']} {rule.op} {fill['threshold']}"
