"""Label matchers as Alertmanager parses and applies them."""

from __future__ import annotations

import pytest

from alerting import matchers as m

LABELS = {"service": "api", "env": "prod", "team": ""}


@pytest.mark.parametrize(
    ("text", "name", "op", "value", "matches"),
    [
        ('service="api"', "service", "=", "api", True),
        ("service=api", "service", "=", "api", True),
        ('service!="api"', "service", "!=", "api", False),
        ('service=~"api|web"', "service", "=~", "api|web", True),
        ('service=~"ap"', "service", "=~", "ap", False),  # anchored: a prefix is no match
        ('service!~"web|db"', "service", "!~", "web|db", True),
        ('missing=""', "missing", "=", "", True),  # an absent label equals the empty string
        ('missing!=""', "missing", "!=", "", False),
        ('team=~".*"', "team", "=~", ".*", True),
        (' env = "prod" ', "env", "=", "prod", True),
        ('msg="say \\"hi\\", = ok"', "msg", "=", 'say "hi", = ok', False),
    ],
)
def test_string_matchers_parse_and_match(
    text: str, name: str, op: str, value: str, matches: bool
) -> None:
    matcher = m.parse(text)
    assert (matcher.name, matcher.op, matcher.value) == (name, op, value)
    assert matcher.matches(LABELS) is matches


@pytest.mark.parametrize(
    ("api", "text"),
    [
        ({"name": "a", "value": "b"}, 'a="b"'),
        ({"name": "a", "value": "b", "isEqual": False}, 'a!="b"'),
        ({"name": "a", "value": "b.*", "isRegex": True}, 'a=~"b.*"'),
        ({"name": "a", "value": "b.*", "isRegex": True, "isEqual": False}, 'a!~"b.*"'),
    ],
)
def test_api_matchers_round_trip(api: dict[str, object], text: str) -> None:
    matcher = m.from_api(api)
    assert str(matcher) == text
    assert m.from_api(matcher.to_api()) == matcher


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("service", "cannot parse"),
        ('service=~"("', "invalid regex"),
        ('1bad="x"', "invalid label name"),
        ('service="unclosed', "unbalanced"),
        ({"name": "a"}, "string 'name' and 'value'"),
        ({"name": "a", "value": "b", "isRegex": "yes"}, "booleans"),
        (42, "a matcher is a string"),
    ],
)
def test_bad_matchers_are_refused_with_a_reason(bad: object, message: str) -> None:
    with pytest.raises(m.MatcherError, match=message):
        m.parse_any(bad)
