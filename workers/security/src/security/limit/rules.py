"""Rate-limit rules: which requests a rule counts, and the key it counts them under.

A rule's key is built from components - `ip`, `user`, `token` (a hash of the bearer token,
never the token), `route`, or `header:<name>` (hashed too) - so "per IP", "per user per
route" and "per API key" are one mechanism. A request that lacks a component (no user on an
anonymous request) is not counted by that rule. Route patterns are globs on the route
template the caller sends, or on the path when it sends none.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
from dataclasses import dataclass

MODES = ("sliding_window", "exact")
MAX_EXACT_LIMIT = 1000  # the exact log keeps one entry per admitted request
KEY_COMPONENTS = ("ip", "user", "token", "route")


@dataclass(frozen=True, slots=True)
class LimitRule:
    id: str
    key: tuple[str, ...]
    limit: int
    window_s: int
    mode: str = "sliding_window"
    routes: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = rule_problems(self)
        if problems:
            raise ValueError(f"rate-limit rule {self.id!r}: {'; '.join(problems)}")

    @property
    def window_ms(self) -> int:
        return self.window_s * 1000

    def applies(self, method: str, route: str) -> bool:
        if self.methods and method.upper() not in self.methods:
            return False
        return not self.routes or any(fnmatch.fnmatchcase(route, p) for p in self.routes)


@dataclass(frozen=True, slots=True)
class Subject:
    """What a request offers to key on."""

    ip: str
    user: str | None = None
    token: str | None = None
    route: str = "/"
    headers: tuple[tuple[str, str], ...] = ()


def rule_problems(rule: LimitRule) -> list[str]:
    problems = []
    if not rule.key:
        problems.append("key needs at least one component")
    for part in rule.key:
        if part not in KEY_COMPONENTS and not (part.startswith("header:") and len(part) > 7):
            problems.append(f"unknown key component {part!r}")
    if rule.limit < 1 or rule.window_s < 1:
        problems.append("limit and window_s must be at least 1")
    if rule.mode not in MODES:
        problems.append(f"mode must be one of {', '.join(MODES)}")
    if rule.mode == "exact" and rule.limit > MAX_EXACT_LIMIT:
        problems.append(f"exact mode is for limits up to {MAX_EXACT_LIMIT}")
    return problems


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def key_for(rule: LimitRule, subject: Subject) -> str | None:
    """`ip=203.0.113.7|route=/login`, or None when the request lacks a component."""
    parts = []
    for component in rule.key:
        value = _component(component, subject)
        if value is None:
            return None
        parts.append(f"{component}={value}")
    return "|".join(parts)


def _component(component: str, subject: Subject) -> str | None:
    if component == "ip":
        return subject.ip or None
    if component == "user":
        return subject.user or None
    if component == "token":
        return _digest(subject.token) if subject.token else None
    if component == "route":
        return subject.route
    name = component.removeprefix("header:").lower()
    value = next((v for n, v in subject.headers if n == name), None)
    return _digest(value) if value else None


@functools.lru_cache(maxsize=16384)  # each check asks for two or three keys; keys repeat
def shard_of(key: str, shards: int) -> int:
    """The shard holding `key`: a stable hash, so one key always meets the same counter."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") % shards


def matching(rules: tuple[LimitRule, ...], method: str, route: str) -> list[LimitRule]:
    """The rules counting this method and route. Remembered per rule set: route templates are
    few, and glob matching each rule on every check is not free."""
    key = (id(rules), method, route)
    found = _matched.get(key)
    if found is None or found[0] is not rules:
        if len(_matched) >= 8192:
            _matched.clear()
        found = _matched[key] = (rules, [rule for rule in rules if rule.applies(method, route)])
    return list(found[1])


# (id of the rule set, method, route) -> (the rule set, kept so a reused id never matches)
_matched: dict[tuple[int, str, str], tuple[tuple[LimitRule, ...], list[LimitRule]]] = {}
