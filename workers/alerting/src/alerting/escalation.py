"""Escalation policies: ordered levels, each a delay and the targets to notify.

Level 1 fires `delay` after the alert starts firing (usually 0); each later level fires its own
`delay` after the level before it. A level fires only while the alert is firing and
unacknowledged: acknowledging or resolving stops the policy. After the last level the policy
may start again from the first, `repeat` more times, `repeat_after` after the last level
(PagerDuty's "repeat this policy N times"). Targets are receivers (their channels), people
(their email and phone), or an on-call schedule (whoever is on call when the level fires).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
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

TARGET_KINDS = ("receiver", "person", "schedule")
MAX_LEVELS = 10
MAX_REPEAT = 10


@dataclass(frozen=True)
class Target:
    kind: str
    name: str

    def to_dict(self) -> dict[str, str]:
        return {self.kind: self.name}


@dataclass(frozen=True)
class Level:
    delay_ms: int
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Step:
    """The next level to fire: which, in which cycle, and when."""

    level: int
    cycle: int
    due_ms: int


@dataclass(frozen=True)
class Policy:
    name: str
    levels: tuple[Level, ...]
    repeat: int = 0
    repeat_after_ms: int = 30 * 60_000

    def first(self, started_ms: int) -> Step:
        return Step(0, 0, started_ms + self.levels[0].delay_ms)

    def after(self, step: Step, fired_ms: int) -> Step | None:
        """The step following `step`, which fired at `fired_ms`; None when the policy is done."""
        if step.level + 1 < len(self.levels):
            return Step(step.level + 1, step.cycle, fired_ms + self.levels[step.level + 1].delay_ms)
        if step.cycle < self.repeat:
            return Step(0, step.cycle + 1, fired_ms + self.repeat_after_ms)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "levels": [
                {
                    "delay": format_duration(level.delay_ms),
                    "targets": [t.to_dict() for t in level.targets],
                }
                for level in self.levels
            ],
            "repeat": self.repeat,
            "repeat_after": format_duration(self.repeat_after_ms),
        }


def parse_policies(data: object, problems: Problems) -> tuple[Policy, ...]:
    found: list[Policy] = []
    with problems.at("escalation_policies"):
        items = problems.check(lambda: listing(data or [], "escalation_policies")) or []
        for index, item in enumerate(items):
            with problems.at(index):
                policy = _policy(item, problems)
                if policy is not None:
                    found.append(policy)
    return tuple(found)


def _policy(item: object, problems: Problems) -> Policy | None:
    data = problems.check(lambda: mapping(item, "an escalation policy"))
    if data is None:
        return None
    unknown_keys(data, {"name", "levels", "repeat", "repeat_after"}, problems)
    name = problems.check(lambda: text(data.get("name"), "name"), "name")
    raw_levels = problems.check(lambda: listing(data.get("levels"), "levels"), "levels") or []
    if not raw_levels or len(raw_levels) > MAX_LEVELS:
        problems.add(f"a policy needs 1 to {MAX_LEVELS} levels", "levels")
    levels = [_level(raw, index, problems) for index, raw in enumerate(raw_levels)]
    repeat = data.get("repeat", 0)
    if isinstance(repeat, bool) or not isinstance(repeat, int) or not 0 <= repeat <= MAX_REPEAT:
        problems.add(f"must be a whole number from 0 to {MAX_REPEAT}", "repeat")
        repeat = 0
    after = problems.check(lambda: duration_ms(data.get("repeat_after", "30m")), "repeat_after")
    if name is None or after is None or not raw_levels or None in levels:
        return None
    return Policy(name, tuple(x for x in levels if x is not None), repeat, after)


def _level(raw: object, index: int, problems: Problems) -> Level | None:
    with problems.at("levels", index):
        data = problems.check(lambda: mapping(raw, "a level"))
        if data is None:
            return None
        unknown_keys(data, {"delay", "targets"}, problems)
        delay = problems.check(lambda: duration_ms(data.get("delay", 0), "delay"), "delay")
        items = problems.check(lambda: listing(data.get("targets"), "targets"), "targets") or []
        if not items:
            problems.add("a level needs at least one target", "targets")
        targets = [
            problems.check(partial(parse_target, t), "targets", i) for i, t in enumerate(items)
        ]
        if delay is None or not items or None in targets:
            return None
        return Level(delay, tuple(t for t in targets if t is not None))


def parse_target(raw: object) -> Target:
    data: Mapping[str, Any] = mapping(raw, "a target")
    kinds = [k for k in TARGET_KINDS if k in data]
    if len(kinds) != 1 or len(data) != 1:
        raise ValueError(
            'a target is one of {"receiver": name}, {"person": name}, {"schedule": name}'
        )
    return Target(kinds[0], text(data[kinds[0]], kinds[0]))
