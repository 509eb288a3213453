"""Hints name every class a text could hold, so the scan compiles only what it needs."""

from __future__ import annotations

import pytest

from obs_schema.scrubbing.config import CLASSES
from obs_schema.scrubbing.hints import classes_in, trie_pattern

ALL = frozenset(CLASSES) | {"kv", "phone_word"}
NUMERIC = {"card", "ssn", "phone", "ipv4"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /health ok", set()),
        ("took 12ms", NUMERIC),
        ("mail alice@example.com", {"email"}),
        ("postgres://a:b@h", {"credentials", "email"}),
        ("Authorization: Bearer x", {"kv", "token"}),
        ("call 555 1234", NUMERIC | {"phone_word"}),
        ("call me", set()),  # no digits: no phone, whatever the words
        ("iban GB82WEST1234", NUMERIC | {"iban"}),
        ("at fe80::1", NUMERIC | {"ipv6"}),
        ("token eyJhbGc", {"jwt", "kv"}),
        ("-----BEGIN PRIVATE KEY-----", {"private_key"}),
    ],
)
def test_classes_in_text(text: str, expected: set[str]) -> None:
    assert classes_in(text, text.lower(), ALL) == expected


def test_only_enabled_classes_are_hinted() -> None:
    assert classes_in("alice@example.com 12", "alice@example.com 12", frozenset({"email"})) == {
        "email"
    }


def test_trie_pattern_matches_exactly_the_words() -> None:
    assert trie_pattern(["pass", "pwd", "pin"]) == "p(?:ass|in|wd)"
    assert trie_pattern(["sk", "sk_"]) == "sk(?:_)?"
