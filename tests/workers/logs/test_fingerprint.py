"""Messages that differ only in their variable parts share one fingerprint."""

from __future__ import annotations

import pytest

from logs.fingerprint import fingerprint, template


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "payment 8812 declined for [email:3f9a1c2e] after 3.2s",
            "payment <*> declined for <*> after <*>s",
        ),
        ("GET /api/pitches/12345 200 in 23ms", "GET /api/pitches/<*> <*> in <*>ms"),
        ("trace 5b8efff798038103d269b633813fc60c failed", "trace <*> failed"),
        ("id 550e8400-e29b-41d4-a716-446655440000 gone", "id <*> gone"),
        ('user "bob smith" at 10:23:45 code=0xDEAD', "user <*> at <*> code=<*>"),
        ("  spaced   out  ", "spaced out"),
        ("tabs\tand\nlines\u2003and\u00a0wide  spaces", "tabs and lines and wide spaces"),
        # A hex id needs 8 digits and a digit before a letter; shorter ones lose only their
        # numbers, and hex-looking words stay.
        ("deck cache faded decade", "deck cache faded decade"),
        ("id 1a2b3c4d and 1a2b3c4 or abcdef12", "id <*> and <*>a<*>b<*>c<*> or abcdef<*>"),
    ],
)
def test_templates(message: str, expected: str) -> None:
    assert template(message) == expected


def test_same_template_same_fingerprint_and_only_then() -> None:
    a = fingerprint("payment 8812 declined for [email:3f9a1c2e]")
    assert a == fingerprint("payment 17 declined for [email:0b1c2d3e]")
    assert a != fingerprint("payment 17 accepted for [email:0b1c2d3e]")
    assert len(a) == 16 and int(a, 16) >= 0
