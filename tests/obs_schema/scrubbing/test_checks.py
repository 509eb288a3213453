"""Checksums decide between a value and a lookalike: Luhn, IBAN mod-97, SSN rules, IPs."""

from __future__ import annotations

import random

import pytest

from obs_schema.scrubbing import checks


@pytest.mark.parametrize(
    ("candidate", "is_card"),
    [
        ("4111111111111111", True),
        ("4111 1111 1111 1111", True),
        ("4111-1111-1111-1111", True),
        ("3782 822463 10005", True),  # Amex 4-6-5
        ("6011111111111117", True),  # Discover
        ("501853618244", True),  # Maestro, 12 digits
        ("411111111112", False),  # 12 digits but Visa
        ("4111111111111112", False),  # Luhn fails
        ("1700000000000000", False),  # Luhn passes, no network starts with 17
        ("4111 1111-1111 1111", False),  # mixed separators
        ("41 1111 1111 1111 11", False),  # not grouped like a card
    ],
)
def test_cards_need_a_network_prefix_luhn_and_card_grouping(candidate: str, is_card: bool) -> None:
    assert checks.is_card(candidate) is is_card


@pytest.mark.parametrize(
    ("candidate", "valid"),
    [
        ("GB82WEST12345698765432", True),
        ("GB82 WEST 1234 5698 7654 32", True),
        ("DE89370400440532013000", True),
        ("GB83WEST12345698765432", False),
        ("AB12CDEF3456GH78", False),
    ],
)
def test_iban_mod_97(candidate: str, valid: bool) -> None:
    assert checks.iban_ok(candidate) is valid


@pytest.mark.parametrize(
    ("candidate", "valid"),
    [
        ("123-45-6789", True),
        ("000-12-3456", False),
        ("666-12-3456", False),
        ("900-12-3456", False),
        ("123-00-4567", False),
        ("123-45-0000", False),
    ],
)
def test_ssn_rules(candidate: str, valid: bool) -> None:
    assert checks.ssn_ok(candidate) is valid


@pytest.mark.parametrize(
    ("candidate", "valid"),
    [
        ("+44 20 7946 0958", True),
        ("555-1234", True),
        ("12-34", False),
        ("+1 555 123 4567 x12", True),
        ("1234567890123456", False),
    ],
)
def test_phones_have_seven_to_fifteen_digits_before_any_extension(
    candidate: str, valid: bool
) -> None:
    assert checks.phone_ok(candidate) is valid


def test_ip_helpers() -> None:
    assert checks.ipv4_ok("10.0.0.1") and not checks.ipv4_ok("10.0.0.256")
    assert checks.canonical_ipv4("010.000.000.001") == "10.0.0.1"
    assert checks.ipv4_network("203.0.113.7") == "203.0.113.0/24"
    assert (
        checks.ipv6_ok("fe80::1%eth0") and not checks.ipv6_ok("::") and not checks.ipv6_ok("1:2:3")
    )
    assert checks.ipv6_network("2001:db8:1:2::1") == "2001:db8:1::/48"


def _plain_ipv4_ok(candidate: str) -> bool:
    """The rule as first written: four octets of at most 255, none naming no one."""
    parts = candidate.split(".")
    if len(parts) != 4 or not all(part.isdigit() and int(part) <= 255 for part in parts):
        return False
    canonical = ".".join(str(int(part)) for part in parts)
    return int(parts[0]) not in (0, 127) and canonical != "255.255.255.255"


def test_ipv4_checks_agree_with_the_plain_rule() -> None:
    rng = random.Random(3)
    octets = ["0", "00", "1", "9", "10", "010", "99", "126", "127", "128", "199", "254", "255"]
    octets += ["0255", "256", "300", "999", "1000", "", "a", "2a"]
    candidates = ["1.2.3", "1.2.3.4.5", "255.255.255.255", "255.255.255.0255", "0.1.2.3"]
    candidates += [".".join(rng.choice(octets) for _ in range(4)) for _ in range(20000)]
    for candidate in candidates:
        assert checks.ipv4_ok(candidate) is _plain_ipv4_ok(candidate), candidate
        if _plain_ipv4_ok(candidate):
            plain = ".".join(str(int(part)) for part in candidate.split("."))
            assert checks.canonical_ipv4(candidate) == plain
