"""The search language parses into a tree, and every malformed query says what is wrong."""

from __future__ import annotations

import pytest

from logs.search.syntax import And, Not, Or, QuerySyntaxError, Term, map_terms, parse


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("timeout", Term("timeout")),
        ("payment declined", And((Term("payment"), Term("declined")))),
        ('"card declined"', Term("card declined", phrase=True)),
        ('"say ""hi"""', Term('say "hi"', phrase=True)),
        ("timeo*", Term("timeo", prefix=True)),
        ('"card decl"*', Term("card decl", prefix=True, phrase=True)),
        ("a OR b c", Or((Term("a"), And((Term("b"), Term("c")))))),
        ("a AND b OR c", Or((And((Term("a"), Term("b"))), Term("c")))),
        ("error NOT retry", And((Term("error"), Not(Term("retry"))))),
        (
            "(db OR cache) AND timeo*",
            And((Or((Term("db"), Term("cache"))), Term("timeo", prefix=True))),
        ),
        ("not and or", And((Term("not"), Term("and"), Term("or")))),  # lower case: words
        ("user@example.com", Term("user@example.com")),
    ],
)
def test_queries_parse(query: str, tree: object) -> None:
    assert parse(query) == tree


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "the query is empty"),
        ("   ", "the query is empty"),
        ('"unclosed', "unbalanced quote (the one at character 1)"),
        ("(a OR b", "unbalanced '(' in the query"),
        ("a OR b)", "unbalanced ')' in the query"),
        ("()", "empty parentheses or unbalanced ')' in the query"),
        ("error AND", "the query ends with an operator; a term must follow it"),
        ("OR error", "OR needs a term on both sides"),
        ("NOT timeout", "NOT must exclude from something"),
        ("a OR NOT b", "NOT must exclude from something"),
        ("***", "* has no letters or digits to search for"),
        ('"--"', '"--" has no letters or digits to search for'),
        ("x" * 1025, "the query is longer than 1024 characters"),
        (" ".join(["w"] * 65), "the query has more than 64 terms"),
    ],
)
def test_malformed_queries_are_explained(query: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        parse(query)
    assert str(raised.value).startswith(message)


def test_terms_can_be_rewritten_in_place() -> None:
    tree = parse('alice "bob smith" NOT carol')
    assert map_terms(tree, str.upper) == And(
        (Term("ALICE"), Term("BOB SMITH", phrase=True), Not(Term("CAROL")))
    )
