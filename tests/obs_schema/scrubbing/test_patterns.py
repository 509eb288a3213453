"""The combined scan finds what one guarded branch per alternative finds."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

import pytest

from obs_schema.scrubbing.patterns import ALTERNATIVES, NUMERIC, combined

EVERY = frozenset(alt.included_by for alt in ALTERNATIVES)


def _one_guard_per_branch(included: Iterable[str]) -> re.Pattern[str]:
    """The scan as first written: each branch tests its own first character and boundary."""
    chosen = [(i, alt) for i, alt in enumerate(ALTERNATIVES) if alt.included_by in set(included)]
    firsts = "".join(
        alt.first[1:-1] if alt.first.startswith("[") else alt.first for _, alt in chosen
    )
    branches = []
    for index, alt in chosen:
        guard = f"(?<={alt.first})" if len(chosen) > 1 else ""
        if alt.boundary:
            guard += f"(?<!{alt.boundary}.)"
        branches.append(f"{guard}{alt.rest}(?P<a{index}>)")
    hoist = all(alt.boundary for _, alt in chosen)
    return re.compile(f"[{firsts}]" + (r"(?<!\w.)" if hoist else "") + f"(?:{'|'.join(branches)})")


def _texts() -> list[str]:
    rng = random.Random(9)
    pieces = [
        "4111 1111 1111 1111", "4111-1111-1111-1111", "123-45-6789", "555-123-4567",
        "+44 20 7946 0958", "(555) 123-4567", "020 7946 0958", "10.0.0.1", "v1.2.3.4",
        "alice@example.com", "a%40b.io", "GB82 WEST 1234 5698 7654 32", "fe80::1", "::",
        "eyJhbGciOi.eyJzdWIi.sig", "Bearer abcdefgh12345678", "AKIAABCDEFGHIJKLMNOP",
        "https://user:pw@host", "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n", "call 5551234567",
        "phone: 07700900123", "id", "12", "0", "+", "(", "-", ".", " ", "x", "ÿ", "_", "@",
    ]  # fmt: skip
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 8))) for _ in range(3000)]


@pytest.mark.parametrize(
    "included",
    [
        NUMERIC,
        NUMERIC | {"email"},
        {"ipv4"},
        {"token", "jwt", "iban"},
        {"phone", "phone_word"},
        EVERY,
    ],
)
def test_shared_guards_find_the_same_candidates(included: frozenset[str]) -> None:
    scan, plain = combined(included), _one_guard_per_branch(included)
    for text in _texts():
        found = [(m.span(), m.lastgroup, m.groupdict()) for m in scan.finditer(text)]
        assert found == [(m.span(), m.lastgroup, m.groupdict()) for m in plain.finditer(text)]
