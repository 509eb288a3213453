"""Label matchers, as Alertmanager writes and applies them: `=`, `!=`, `=~`, `!~`.

Routes and inhibition rules write them as strings (`service=~"api|web"`, `team="db"`, or the
unquoted `team=db` the newer Alertmanager parser accepts); silences as objects
(`{"name", "value", "isRegex", "isEqual"}`, API v2). Regexes are anchored at both ends, as in
Alertmanager (`^(?:regex)$`), and a label that is absent matches as the empty string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

OPERATORS = ("=~", "!~", "!=", "=")  # longest first, so `!=` is not read as `!` + `=`
MAX_PATTERN_CHARS = 1024
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,127}")
_TEXT = re.compile(r'\s*([^=!~\s"]+)\s*(=~|!~|!=|=)\s*(.*?)\s*,?\s*\Z', re.DOTALL)


class MatcherError(ValueError):
    """A matcher could not be parsed or its regex does not compile."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @staticmethod
    def of(name: str, op: str, value: str) -> Matcher:
        if op not in OPERATORS:
            raise MatcherError(f"unknown operator {op!r}; use =, !=, =~ or !~")
        if not _NAME.fullmatch(name):
            raise MatcherError(f"invalid label name {name[:40]!r}")
        if len(value) > MAX_PATTERN_CHARS:
            raise MatcherError(f"the value of {name!r} is longer than {MAX_PATTERN_CHARS}")
        regex = None
        if op in ("=~", "!~"):
            try:
                regex = re.compile(f"^(?:{value})$", re.DOTALL)
            except re.error as error:
                raise MatcherError(f"invalid regex for {name!r}: {error}") from None
        return Matcher(name, op, value, regex)

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self._regex is not None:
            found = self._regex.match(actual) is not None
            return found if self.op == "=~" else not found
        return (actual == self.value) if self.op == "=" else (actual != self.value)

    def __str__(self) -> str:
        return f"{self.name}{self.op}{json.dumps(self.value, ensure_ascii=False)}"

    def to_api(self) -> dict[str, Any]:
        """Alertmanager API v2 form."""
        return {
            "name": self.name,
            "value": self.value,
            "isRegex": self.op in ("=~", "!~"),
            "isEqual": self.op in ("=", "=~"),
        }


def parse(text: str) -> Matcher:
    """`name="value"`, `name=~"re"`, `name!=value`..."""
    if not isinstance(text, str):
        raise MatcherError('a matcher is a string such as service="api"')
    match = _TEXT.match(text)
    if match is None:
        raise MatcherError(f'cannot parse matcher {text[:60]!r}; expected name="value"')
    name, op, raw = match.groups()
    return Matcher.of(name, op, _unquote(raw))


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        try:
            value = json.loads(raw)
        except ValueError:
            raise MatcherError(f"bad quoting in {raw[:60]!r}") from None
        if not isinstance(value, str):
            raise MatcherError("a matcher value must be a string")
        return value
    if '"' in raw:
        raise MatcherError(f"unbalanced quotes in {raw[:60]!r}")
    return raw


def from_api(data: Mapping[str, Any]) -> Matcher:
    """A silence matcher: `{"name", "value", "isRegex", "isEqual"}` (isEqual defaults true)."""
    name, value = data.get("name"), data.get("value")
    if not isinstance(name, str) or not isinstance(value, str):
        raise MatcherError("a matcher needs string 'name' and 'value'")
    is_regex, is_equal = data.get("isRegex", False), data.get("isEqual", True)
    if not isinstance(is_regex, bool) or not isinstance(is_equal, bool):
        raise MatcherError("isRegex and isEqual must be booleans")
    op = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}
    return Matcher.of(name, op[(is_regex, is_equal)], value)


def parse_any(item: object) -> Matcher:
    """A string matcher or an API object matcher."""
    if isinstance(item, Mapping):
        return from_api(item)
    if isinstance(item, str):
        return parse(item)
    raise MatcherError('a matcher is a string (service="api") or {name, value, isRegex}')


def parse_all(items: Iterable[object]) -> tuple[Matcher, ...]:
    return tuple(parse_any(item) for item in items)


def equality(labels: Mapping[str, str]) -> tuple[Matcher, ...]:
    """The deprecated `match: {k: v}` form as `=` matchers."""
    return tuple(Matcher.of(k, "=", v) for k, v in sorted(labels.items()))


def match_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
