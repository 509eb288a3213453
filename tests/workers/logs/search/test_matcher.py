"""The Python matcher (archive search) agrees with FTS5 on the same records and queries."""

from __future__ import annotations

import pytest

from localedge.storage import DurableObjectStorage
from logs.search.fts import to_fts
from logs.search.matcher import Matcher, tokens
from logs.search.syntax import parse

CORPUS = [
    "payment declined for order 8812",
    "card declined: insufficient funds",
    "Connection timeout after 30s (db-primary)",
    "connection reset by peer",
    "Café crème served; naïve façade",
    "user [email:3f9a1c2e] logged in",
    "retry 3 of 5: timeout talking to cache",
    "snake_case_words and kebab-case-words",
]
QUERIES = [
    "declined",
    "payment declined",
    '"card declined"',
    "timeout OR reset",
    "connection NOT reset",
    "time*",
    "conn* AND (db OR cache)",
    "cafe creme",
    '"email:3f9a1c2e"',
    "timeout NOT retry",
    '"declined for"*',
    "case",
    "snake",
]


def test_words_are_cut_like_fts5_unicode61() -> None:
    assert tokens("Café crème: naïve_snake-kebab 42x") == [
        "cafe",
        "creme",
        "naive",
        "snake",
        "kebab",
        "42x",
    ]


@pytest.mark.parametrize("query", QUERIES)
def test_matcher_and_fts5_find_the_same_records(storage: DurableObjectStorage, query: str) -> None:
    sql = storage.sql
    sql.exec("CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')")
    for text in CORPUS:
        sql.exec("INSERT INTO t (body) VALUES (?)", text)
    tree = parse(query)
    rows = sql.exec("SELECT body FROM t WHERE t MATCH ?", to_fts(tree)).toArray()
    expected = {row["body"] for row in rows}
    assert {text for text in CORPUS if Matcher(tree)(text)} == expected
    assert expected or query in ("connection NOT reset",)  # the corpus answers every query
