"""The detection engine: every rule over every value, scored the way OWASP CRS scores.

Each matching rule adds its severity score (critical 5, error 4, warning 3, notice 2) to the
request's anomaly score. The paranoia level (1-4) decides which rules run: level 1 holds the
rules precise enough for any traffic, higher levels add broader rules that catch more and
misfire more. Evidence is an excerpt around the match, passed through the caller's scrubber
so personal data in a hostile request never reaches storage.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from security.detect import agents, commands, protocol, sqli, ssrf, traversal, xss
from security.detect.normaliser import Views, views
from security.detect.request import HttpRequest, Value, values_of
from security.detect.rules import WARNING, Rule, RuleSet

RULESETS: tuple[RuleSet, ...] = (
    sqli.RULES,
    xss.RULES,
    traversal.RULES,
    commands.RULES,
    ssrf.RULES,
    agents.RULES,
)
THREAT_TYPES = (*(rs.threat for rs in RULESETS), protocol.T)
EXCERPT_CHARS = 48
MAX_THREATS = 16
MEMO_MAX_CHARS = 256  # values remembered: at most this long, at most this many
MEMO_ENTRIES = 8192
MEMO_MAX_HEADER_CHARS = 4096  # header sets remembered: at most this much text
# Values made only of these can hold no operator, quote, tag or path: only word rules apply.
_PLAIN = re.compile(r"[A-Za-z0-9 _.,-]*")
_GENERIC_KINDS = frozenset(
    {"path", "query", "name", "body", "cookie", "header", "header.user-agent", "header.referer"}
)

Scrub = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Threat:
    type: str
    location: str
    rule: str
    score: int
    evidence: str


@dataclass(frozen=True, slots=True)
class Verdict:
    score: int
    threats: tuple[Threat, ...]

    @property
    def types(self) -> list[str]:
        return sorted({t.type for t in self.threats})


def _identity(text: str) -> str:
    return text


class Detector:
    """Compiled once per policy; `inspect` is pure and safe to share."""

    def __init__(
        self,
        *,
        paranoia: int = 1,
        disabled: Iterable[str] = (),
        scrub: Scrub = _identity,
        rulesets: tuple[RuleSet, ...] = RULESETS,
    ) -> None:
        if not 1 <= paranoia <= 4:
            raise ValueError("paranoia level is 1 to 4")
        self.paranoia = paranoia
        self.disabled = frozenset(disabled)
        self.scrub = scrub
        active = [
            rule
            for ruleset in rulesets
            for rule in ruleset.rules
            if rule.paranoia <= paranoia and rule.id not in self.disabled
        ]
        self._by_kind: dict[str, _Index] = {}
        self._plain_by_kind: dict[str, _Index] = {}
        for kind in (*_GENERIC_KINDS, "header-name"):
            rules = tuple(r for r in active if _applies(r, kind))
            self._by_kind[kind] = _Index(rules)
            # Plain values skip decoding and the Python checks (they need '//', quotes...);
            # regex rules still run, each gated by its trigger characters.
            self._plain_by_kind[kind] = _Index(tuple(r for r in rules if r.check is None))
        # Verdicts are a pure function of the value and this detector: safe to remember.
        self._memo: dict[Value, tuple[Threat, ...]] = {}
        self._header_memo: dict[tuple[tuple[str, str], ...], tuple[Threat, ...]] = {}

    def inspect(self, request: HttpRequest) -> Verdict:
        threats: list[Threat] = []
        for value in values_of(request):
            threats.extend(self._remembered(value))
        threats.extend(self._protocol(request))
        threats.sort(key=lambda t: (-t.score, t.type, t.rule, t.location))
        return Verdict(sum(t.score for t in threats), tuple(threats[:MAX_THREATS]))

    def inspect_value(self, value: Value) -> list[Threat]:
        return list(self._remembered(value))

    def _remembered(self, value: Value) -> tuple[Threat, ...]:
        """The threats of one value, remembered for short values: User-Agents, paths, header
        and query values recur across requests far more often than they change."""
        found = self._memo.get(value)
        if found is None:
            if len(value.text) > MEMO_MAX_CHARS:
                return tuple(self._inspect_value(value))
            if len(self._memo) >= MEMO_ENTRIES:
                self._memo.clear()
            found = self._memo[value] = tuple(self._inspect_value(value))
        return found

    def _inspect_value(self, value: Value) -> list[Threat]:
        text = value.text
        if _PLAIN.fullmatch(text):
            lower = text.lower()
            seen = Views(text, lower, lower, lower.replace(" ", ""), 0)
            index = self._plain_by_kind.get(value.kind)
        else:
            seen = views(text, plus_is_space=value.plus_is_space)
            index = self._by_kind.get(value.kind)
        if index is None:
            return []
        found: list[Threat] = []
        for rule in index.candidates(seen):
            hit = rule.match(seen, gated=True)
            if hit is not None:
                found.append(
                    Threat(
                        rule.threat, value.location, rule.id, rule.score, self._excerpt(seen, hit)
                    )
                )
        if seen.layers >= 2 and self.paranoia >= 2:
            found.append(
                Threat(
                    protocol.T,
                    value.location,
                    "proto-multiple-encoding",
                    WARNING,
                    self._excerpt(seen, (0, len(seen.text), "text")),
                )
            )
        return found

    def _protocol(self, request: HttpRequest) -> list[Threat]:
        shape = protocol.RequestShape(
            request.method.upper(), request.path, request.query, request.headers
        )
        return [
            *self._header_threats(request.headers),
            *self._threats(protocol.request_findings(shape, self.paranoia)),
        ]

    def _header_threats(self, headers: tuple[tuple[str, str], ...]) -> tuple[Threat, ...]:
        """Findings about the header set, remembered like values (sets repeat per client)."""
        if sum(len(n) + len(v) for n, v in headers) > MEMO_MAX_HEADER_CHARS:
            return tuple(self._threats(protocol.header_findings(headers, self.paranoia)))
        found = self._header_memo.get(headers)
        if found is None:
            if len(self._header_memo) >= MEMO_ENTRIES:
                self._header_memo.clear()
            found = tuple(self._threats(protocol.header_findings(headers, self.paranoia)))
            self._header_memo[headers] = found
        return found

    def _threats(self, findings: list[protocol.Finding]) -> list[Threat]:
        return [
            Threat(protocol.T, f.location, f.rule, f.score, self.scrub(f.excerpt))
            for f in findings
            if f.rule not in self.disabled
        ]

    def _excerpt(self, seen: Views, hit: tuple[int, int, str]) -> str:
        start, end, view = hit
        subject: str = getattr(seen, view)
        middle = (start + end) // 2
        lo = max(0, min(start, middle - EXCERPT_CHARS // 2))
        excerpt = subject[lo : lo + max(EXCERPT_CHARS, min(end - lo, EXCERPT_CHARS * 2))]
        return self.scrub(excerpt)


class _Index:
    """The rules for one kind of value, indexed by trigger character.

    A rule can only match if its view holds one of its trigger characters; the characters of
    the `text` and `decoded` views together cover every view (the others are derived from
    `text` by removing characters). So the candidates for a value are the untriggered rules
    plus those listed under a character it holds: one set operation instead of a loop.
    """

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self.always = frozenset(i for i, r in enumerate(rules) if r.triggers is None)
        by_char: dict[str, set[int]] = {}
        for i, rule in enumerate(rules):
            for char in rule.triggers or ():
                by_char.setdefault(char, set()).add(i)
        self.by_char = {c: frozenset(ids) for c, ids in by_char.items()}
        self.alphabet = frozenset(by_char)

    def candidates(self, seen: Views) -> list[Rule]:
        chars = self.alphabet.intersection(seen.text)
        if seen.decoded is not seen.text:
            chars |= self.alphabet.intersection(seen.decoded)
        chosen = set(self.always)
        for char in chars:
            chosen |= self.by_char[char]
        return [self.rules[i] for i in sorted(chosen)]


def _applies(rule: Rule, kind: str) -> bool:
    return kind in (_GENERIC_KINDS if rule.locations is None else rule.locations)
