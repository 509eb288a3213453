"""The FTS5 expression quotes every term, so user text can never be FTS5 syntax."""

from __future__ import annotations

import pytest

from logs.search.fts import to_fts
from logs.search.syntax import parse


@pytest.mark.parametrize(
    ("query", "expression"),
    [
        ("timeout", '"timeout"'),
        ("payment declined", '"payment" AND "declined"'),
        ('"card declined"', '"card declined"'),
        ("timeo*", '"timeo"*'),
        ("a OR b c", '"a" OR ("b" AND "c")'),
        ("error NOT retry", '"error" NOT "retry"'),
        ("a b NOT c NOT d", '("a" AND "b") NOT "c" NOT "d"'),
        ("(db OR cache) timeo*", '("db" OR "cache") AND "timeo"*'),
        ('say "x"" OR y"', '"say" AND "x"" OR y"'),
        ("col:value NEAR(a b)", '"col:value" AND "NEAR" AND ("a" AND "b")'),
    ],
)
def test_expressions(query: str, expression: str) -> None:
    assert to_fts(parse(query)) == expression
