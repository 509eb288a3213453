"""SQL fingerprints: literals and lists collapse, structure and identifiers stay."""

from __future__ import annotations

import pytest

from apm.fingerprint import fingerprint, fingerprint_id, operation


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT * FROM pitches WHERE id = 42", "select * from pitches where id = ?"),
        ("select * from pitches where id=7 -- by id", "select * from pitches where id = ?"),
        ("SELECT a FROM t WHERE x IN (1, 2, 3)", "select a from t where x in (?)"),
        ("SELECT a FROM t WHERE x IN ('a','b')", "select a from t where x in (?)"),
        ("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')", "insert into t (a, b) values (?)"),
        ("UPDATE t SET n = -5.5e3 WHERE id = $1", "update t set n = ? where id = ?"),
        ("SELECT * FROM t WHERE a = :a AND b = %s", "select * from t where a = ? and b = ?"),
        (
            'SELECT "Users".id FROM "Users" /* c */ WHERE ok = TRUE;',
            'select "Users".id from "Users" where ok = ?',
        ),
        ("SELECT * FROM t2 WHERE c >= 0x1F", "select * from t2 where c >= ?"),
        ("SELECT 'it''s' FROM t", "select ? from t"),
    ],
)
def test_statements_normalise_to_their_fingerprint(statement: str, expected: str) -> None:
    assert fingerprint(statement) == expected


def test_ids_are_stable_and_operations_are_the_verb() -> None:
    assert fingerprint_id("select ?") == fingerprint_id("select ?")
    assert len(fingerprint_id("select ?")) == 16
    assert [operation(s) for s in ("  select 1", "INSERT x", "")] == ["SELECT", "INSERT", ""]
