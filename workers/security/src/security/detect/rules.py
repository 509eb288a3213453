"""What a detection rule is, and the scores rules carry (OWASP CRS severities).

A rule looks at one view of one value (see `normaliser.Views`) and either matches, yielding
the matched span for evidence, or not. Most rules are a regular expression; a few are Python
checks where a pattern cannot say it (SSRF address arithmetic, quote balance). A rule only
runs at or above its paranoia level, and only when the value holds one of its trigger
characters: most values are plain words, so most rules are skipped in a set lookup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from security.detect.normaliser import Views

CRITICAL, ERROR, WARNING, NOTICE = 5, 4, 3, 2
"""CRS anomaly scores by severity: one critical match reaches the default block threshold."""

VIEW_NAMES = ("decoded", "text", "sql", "compact")
Check = Callable[[Views], tuple[int, int, str] | None]
"""A Python rule: `(start, end, view name)` of what it matched, or None."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str  # stable, shown in evidence and metrics: "sqli-union"
    threat: str  # sqli, xss, path_traversal, command_injection, ssrf, scanner, protocol_anomaly
    description: str
    score: int
    paranoia: int = 1
    pattern: re.Pattern[str] | None = None
    view: str = "text"
    check: Check | None = None
    triggers: frozenset[str] | None = None  # run only if the view holds one of these characters
    locations: frozenset[str] | None = None  # "query", "body", "path", "header", "cookie"

    def match(self, views: Views, *, gated: bool = False) -> tuple[int, int, str] | None:
        """Where the rule matched; `gated` means the caller already checked the triggers."""
        if self.check is not None:
            return self.check(views)
        assert self.pattern is not None  # regex_rule always sets one
        subject = getattr(views, self.view)
        if not gated and self.triggers is not None and self.triggers.isdisjoint(subject):
            return None
        found = self.pattern.search(subject)
        return None if found is None else (found.start(), found.end(), self.view)


@dataclass(frozen=True)
class RuleSet:
    """The rules of one threat class, in evaluation order."""

    threat: str
    rules: tuple[Rule, ...] = field(default_factory=tuple)


def regex_rule(
    id: str,
    threat: str,
    description: str,
    pattern: str,
    *,
    score: int = CRITICAL,
    paranoia: int = 1,
    view: str = "text",
    triggers: str | None = None,
    locations: tuple[str, ...] | None = None,
) -> Rule:
    if view not in VIEW_NAMES:
        raise ValueError(f"{id}: unknown view {view!r}")
    return Rule(
        id=id,
        threat=threat,
        description=description,
        score=score,
        paranoia=paranoia,
        pattern=re.compile(pattern, re.DOTALL),
        view=view,
        triggers=frozenset(triggers) if triggers else None,
        locations=frozenset(locations) if locations else None,
    )


def check_rule(
    id: str,
    threat: str,
    description: str,
    check: Check,
    *,
    score: int = CRITICAL,
    paranoia: int = 1,
    locations: tuple[str, ...] | None = None,
) -> Rule:
    return Rule(
        id=id,
        threat=threat,
        description=description,
        score=score,
        paranoia=paranoia,
        check=check,
        locations=frozenset(locations) if locations else None,
    )
