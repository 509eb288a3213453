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
    ],
)
def test_templates(message: str, expected: str) -> None:
    assert template(message) == expected


def test_same_template_same_fingerprint_and_only_then() -> None:
    a = fingerprint("payment 8812 declined for [email:3f9a1c2e]")
    assert a == fingerprint("payment 17 declined for [email:0b1c2d3e]")
    assert a != fingerprint("payment 17 accepted for [email:0b1c2d3e]")
    assert len(a) == 16 and int(a, 16) >= 0
