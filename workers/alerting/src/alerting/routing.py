"""The routing tree: which receiver (and escalation policy) hears about an alert, grouped how.

Alertmanager's semantics (docs/configuration.md `route`): every alert enters the root, which
matches everything; it descends depth-first into the first matching child, and on into later
siblings only while the matched child says `continue: true`; when no child matches, the node
itself takes the alert. Unset parameters are inherited from the parent. Alerts with the same
values for the route's `group_by` labels form one aggregation group, whose key is
Alertmanager's `<route key>:<group labels>` (e.g. `{}/{severity="critical"}:{service="api"}`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from alerting import matchers as m
from alerting.problems import Problems, duration_ms, format_duration, listing, mapping, unknown_keys

ALL_LABELS = "..."
DEFAULTS: dict[str, Any] = {
    "group_by": ["alertname"],
    "group_wait": "30s",
    "group_interval": "5m",
    "repeat_interval": "4h",
}
_FIELDS = {"receiver", "group_by", "group_wait", "group_interval", "repeat_interval"}
_FIELDS |= {"matchers", "match", "match_re", "continue", "routes", "escalation"}
_FIELDS |= {"mute_time_intervals", "active_time_intervals"}
MAX_DEPTH = 16


@dataclass(frozen=True)
class Route:
    key: str
    receiver: str
    group_by: tuple[str, ...] | None  # None: every label (`...`)
    group_wait_ms: int
    group_interval_ms: int
    repeat_interval_ms: int
    matchers: tuple[m.Matcher, ...] = ()
    cont: bool = False
    escalation: str | None = None
    routes: tuple[Route, ...] = ()
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """The routes that take an alert with `labels` (empty if this node does not match)."""
        if not m.match_all(self.matchers, labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            taken = child.match(labels)
            found.extend(taken)
            if taken and not child.cont:
                break
        return found or [self]

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        if self.group_by is None:
            return dict(labels)
        return {name: labels[name] for name in self.group_by if name in labels}

    def group_key(self, labels: Mapping[str, str]) -> str:
        return f"{self.key}:{labelset_string(self.group_labels(labels))}"

    def walk(self) -> list[Route]:
        return [self, *(r for child in self.routes for r in child.walk())]

    def to_dict(self, parent: Route | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"receiver": self.receiver}
        if self.matchers:
            out["matchers"] = [str(x) for x in self.matchers]
        out["group_by"] = [ALL_LABELS] if self.group_by is None else list(self.group_by)
        out["group_wait"] = format_duration(self.group_wait_ms)
        out["group_interval"] = format_duration(self.group_interval_ms)
        out["repeat_interval"] = format_duration(self.repeat_interval_ms)
        if self.escalation:
            out["escalation"] = self.escalation
        if self.cont:
            out["continue"] = True
        if self.mute_time_intervals:
            out["mute_time_intervals"] = list(self.mute_time_intervals)
        if self.active_time_intervals:
            out["active_time_intervals"] = list(self.active_time_intervals)
        if self.routes:
            out["routes"] = [child.to_dict(self) for child in self.routes]
        return out


def labelset_string(labels: Mapping[str, str]) -> str:
    """prometheus/common `LabelSet.String()`: sorted, `name="value"` joined by `, `."""
    pairs = (f"{k}={json.dumps(labels[k], ensure_ascii=False)}" for k in sorted(labels))
    return "{" + ", ".join(pairs) + "}"


def _matchers_string(found: tuple[m.Matcher, ...]) -> str:
    return "{" + ",".join(str(x) for x in found) + "}"


def parse_route(data: object, problems: Problems) -> Route | None:
    """The root route, validated; None when it has problems (which are in `problems`)."""
    with problems.at("route"):
        root = problems.check(lambda: mapping(data, "route"))
        if root is None:
            return None
        if root.get("matchers") or root.get("match") or root.get("match_re"):
            problems.add("the root route must match every alert; it cannot have matchers")
        if not root.get("receiver"):
            problems.add("the root route needs a receiver", "receiver")
        inherited = {**DEFAULTS, "receiver": root.get("receiver", ""), "escalation": None}
        route = _node(root, inherited, None, 0, problems)
    return route


def _node(
    data: Mapping[str, Any],
    inherited: Mapping[str, Any],
    parent_key: str | None,
    depth: int,
    problems: Problems,
) -> Route | None:
    unknown_keys(data, _FIELDS, problems)
    if depth > MAX_DEPTH:
        problems.add(f"routes nest deeper than {MAX_DEPTH} levels")
        return None
    settings = {**inherited, **{k: v for k, v in data.items() if k in inherited}}
    found = _route_matchers(data, problems)
    key = (
        _matchers_string(found) if parent_key is None else f"{parent_key}/{_matchers_string(found)}"
    )
    children = problems.check(lambda: listing(data.get("routes", []), "routes"), "routes") or []
    routes: list[Route] = []
    for index, child in enumerate(children):
        with problems.at("routes", index):
            child_map = problems.check(partial(mapping, child, "a route"))
            if child_map is not None:
                built = _node(child_map, settings, key, depth + 1, problems)
                if built is not None:
                    routes.append(built)
    return _build(settings, found, key, data, tuple(_unique(routes)), problems)


def _build(
    settings: Mapping[str, Any],
    found: tuple[m.Matcher, ...],
    key: str,
    data: Mapping[str, Any],
    routes: tuple[Route, ...],
    problems: Problems,
) -> Route | None:
    times = {
        name: problems.check(partial(duration_ms, settings[name], name), name)
        for name in ("group_wait", "group_interval", "repeat_interval")
    }
    group_by = problems.check(lambda: _group_by(settings["group_by"]), "group_by")
    receiver, escalation = settings.get("receiver"), settings.get("escalation")
    if not isinstance(receiver, str) or not receiver:
        problems.add("must be a receiver name", "receiver")
    if escalation is not None and not isinstance(escalation, str):
        problems.add("must be an escalation policy name", "escalation")
    if times["group_interval"] == 0:
        problems.add("must be greater than zero", "group_interval")
    cont = data.get("continue", False)
    if not isinstance(cont, bool):
        problems.add("must be true or false", "continue")
    intervals = {
        name: problems.check(partial(_names, data.get(name, []), name), name)
        for name in ("mute_time_intervals", "active_time_intervals")
    }
    if None in times.values() or not isinstance(receiver, str) or group_by is None:
        return None
    return Route(
        key=key,
        receiver=receiver,
        group_by=group_by[0],
        group_wait_ms=times["group_wait"] or 0,
        group_interval_ms=times["group_interval"] or 1,
        repeat_interval_ms=times["repeat_interval"] or 0,
        matchers=found,
        cont=cont is True,
        escalation=escalation if isinstance(escalation, str) else None,
        routes=routes,
        mute_time_intervals=intervals["mute_time_intervals"] or (),
        active_time_intervals=intervals["active_time_intervals"] or (),
    )


def _route_matchers(data: Mapping[str, Any], problems: Problems) -> tuple[m.Matcher, ...]:
    found: list[m.Matcher] = []
    items = problems.check(lambda: listing(data.get("matchers", []), "matchers"), "matchers")
    for index, item in enumerate(items or []):
        matcher = problems.check(partial(m.parse_any, item), "matchers", index)
        if matcher is not None:
            found.append(matcher)
    for legacy, op in (("match", "="), ("match_re", "=~")):
        pairs = problems.check(partial(mapping, data.get(legacy, {}), legacy), legacy) or {}
        for name, value in pairs.items():
            matcher = problems.check(partial(m.Matcher.of, name, op, str(value)))
            if matcher is not None:
                found.append(matcher)
    return tuple(found)


def _group_by(value: object) -> tuple[tuple[str, ...] | None]:
    names = listing(value, "group_by")
    if ALL_LABELS in names:
        if len(names) != 1:
            raise ValueError("'...' groups by every label and cannot be combined with names")
        return (None,)
    if not all(isinstance(n, str) and n for n in names):
        raise ValueError("group_by must list label names")
    return (tuple(dict.fromkeys(names)),)


def _names(value: object, what: str) -> tuple[str, ...]:
    names = listing(value, what)
    if not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"{what} must list time interval names")
    return tuple(names)


def _unique(routes: list[Route]) -> list[Route]:
    """Identical sibling routes would share group keys: give the later ones an index."""
    seen: dict[str, int] = {}
    unique = []
    for route in routes:
        count = seen.get(route.key, 0)
        seen[route.key] = count + 1
        if count:
            route = _rekey(route, f"{route.key}#{count}")
        unique.append(route)
    return unique


def _rekey(route: Route, key: str) -> Route:
    children = tuple(_rekey(c, key + c.key[len(route.key) :]) for c in route.routes)
    return dataclasses.replace(route, key=key, routes=children)
