"""Inhibition: a firing source alert mutes target alerts that share its `equal` labels.

Alertmanager's rules (docs/configuration.md `inhibit_rules`, inhibit/inhibit.go): a target is
muted while at least one *firing* source alert exists whose `equal` labels have the same values
(a missing label equals an empty one). An alert matching both sides cannot be inhibited by
alerts that also match both sides, so a rule never mutes its own sources.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from alerting import matchers as m
from alerting.problems import Problems, listing, mapping, unknown_keys

_FIELDS = {"name", "source_matchers", "target_matchers", "equal", "source_match"}
_FIELDS |= {"target_match", "source_match_re", "target_match_re"}


@dataclass(frozen=True)
class InhibitRule:
    name: str
    source: tuple[m.Matcher, ...]
    target: tuple[m.Matcher, ...]
    equal: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source_matchers": [str(x) for x in self.source],
            "target_matchers": [str(x) for x in self.target],
            "equal": list(self.equal),
        }


@dataclass(frozen=True)
class Candidate:
    """A firing alert that may act as a source."""

    fingerprint: str
    labels: Mapping[str, str]


class Inhibitor:
    """Answers "is this alert inhibited, and by which alert?" for one set of firing alerts."""

    def __init__(self, rules: Iterable[InhibitRule], firing: Iterable[Candidate]) -> None:
        self._rules = list(rules)
        alerts = list(firing)
        # Per rule: equal-label values -> sources with those values (and whether they also
        # match the target side, for the two-sided exclusion).
        self._sources: list[dict[tuple[str, ...], list[tuple[str, bool]]]] = []
        for rule in self._rules:
            index: dict[tuple[str, ...], list[tuple[str, bool]]] = {}
            for alert in alerts:
                if m.match_all(rule.source, alert.labels):
                    key = tuple(alert.labels.get(name, "") for name in rule.equal)
                    both = m.match_all(rule.target, alert.labels)
                    index.setdefault(key, []).append((alert.fingerprint, both))
            self._sources.append(index)

    def inhibited_by(self, fingerprint: str, labels: Mapping[str, str]) -> str | None:
        for rule, index in zip(self._rules, self._sources, strict=True):
            if not m.match_all(rule.target, labels):
                continue
            exclude_two_sided = m.match_all(rule.source, labels)
            key = tuple(labels.get(name, "") for name in rule.equal)
            for source, both in index.get(key, ()):
                if source != fingerprint and not (exclude_two_sided and both):
                    return source
        return None


def parse_rules(data: object, problems: Problems) -> tuple[InhibitRule, ...]:
    rules: list[InhibitRule] = []
    with problems.at("inhibit_rules"):
        items = problems.check(lambda: listing(data or [], "inhibit_rules")) or []
        for index, item in enumerate(items):
            with problems.at(index):
                rule = _rule(item, index, problems)
                if rule is not None:
                    rules.append(rule)
    return tuple(rules)


def _rule(item: object, index: int, problems: Problems) -> InhibitRule | None:
    data = problems.check(lambda: mapping(item, "an inhibit rule"))
    if data is None:
        return None
    unknown_keys(data, _FIELDS, problems)
    sides = {side: _side(data, side, problems) for side in ("source", "target")}
    if not sides["source"]:
        problems.add("an inhibit rule needs source_matchers", "source_matchers")
    if not sides["target"]:
        problems.add("an inhibit rule needs target_matchers", "target_matchers")
    equal = problems.check(lambda: listing(data.get("equal", []), "equal"), "equal") or []
    if not all(isinstance(name, str) and name for name in equal):
        problems.add("equal must list label names", "equal")
        return None
    name = data.get("name", f"inhibit-{index}")
    if not isinstance(name, str):
        problems.add("must be a string", "name")
        return None
    return InhibitRule(name, sides["source"], sides["target"], tuple(equal))


def _side(data: Mapping[str, Any], side: str, problems: Problems) -> tuple[m.Matcher, ...]:
    found: list[m.Matcher] = []
    field = f"{side}_matchers"
    items = problems.check(lambda: listing(data.get(field, []), field), field) or []
    for index, item in enumerate(items):
        matcher = problems.check(partial(m.parse_any, item), field, index)
        if matcher is not None:
            found.append(matcher)
    for legacy, op in ((f"{side}_match", "="), (f"{side}_match_re", "=~")):
        pairs = problems.check(partial(mapping, data.get(legacy, {}), legacy), legacy) or {}
        for name, value in pairs.items():
            matcher = problems.check(partial(m.Matcher.of, name, op, str(value)))
            if matcher is not None:
                found.append(matcher)
    return tuple(found)
