"""Checksums and validity rules that turn "looks like" into "is": Luhn, IBAN, SSN, IPs.

A pattern finds candidates; these decide. They keep the false-positive rate low on logs full
of numbers (order ids, epoch times, versions) without giving up recall on the real thing.
"""

from __future__ import annotations

import ipaddress
import re

_DIGIT_VALUE = {str(d): d for d in range(10)}
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # Luhn's "double and add the digits" per digit
_NON_DIGITS = re.compile(r"[^0-9]")

# Issuer prefixes (IIN ranges) of the networks people actually pay with: a 16-digit number
# passing Luhn but starting with, say, 1 or 9 is an id, not a card.
_CARD_PREFIX = re.compile(
    r"4"  # Visa
    r"|5[1-5]|2(?:2[2-9][1-9]|2[3-9]|[3-6]|7[01]|720)"  # Mastercard
    r"|3[47]"  # American Express
    r"|3(?:0[0-5]|09|[689])"  # Diners Club
    r"|35"  # JCB (3528-3589, and the rest of 35 that test generators use)
    r"|6(?:011|22|4[4-9]|5)"  # Discover, UnionPay co-branded
    r"|62|81"  # UnionPay
    r"|5[06-8]|6[0-9]|0604"  # Maestro
    r"|2131|1800"  # JCB 15-digit
)
# Maestro numbers may be as short as 12 digits; every other network's are 13 or more.
_MAESTRO = re.compile(r"50(?:18|20|38)|5[6-8]|6304|6390|67(?:59|6[1-3])|0604")


def digits(text: str) -> str:
    return _NON_DIGITS.sub("", text)


def luhn_ok(number: str) -> bool:
    """The Luhn (mod 10) check of a string of digits."""
    total = 0
    for position, char in enumerate(reversed(number)):
        value = _DIGIT_VALUE[char]
        total += _DOUBLED[value] if position % 2 else value
    return total % 10 == 0


def is_card(candidate: str) -> bool:
    """12-19 digits from a card network's range passing Luhn, separated consistently."""
    separators = {c for c in candidate if not c.isdigit()}
    if len(separators) > 1:
        return False
    number = digits(candidate)
    if not 12 <= len(number) <= 19 or not _CARD_PREFIX.match(number):
        return False
    if len(number) == 12 and not _MAESTRO.match(number):
        return False
    if separators and not _grouped_like_a_card(candidate, separators.pop()):
        return False
    return luhn_ok(number)


def _grouped_like_a_card(candidate: str, separator: str) -> bool:
    groups = [len(group) for group in candidate.split(separator)]
    # 4-4-4-4(-3), Amex 4-6-5, Diners 4-6-4; anything else is more likely a list of numbers.
    return groups[0] == 4 and all(2 <= size <= 6 for size in groups[1:])


def iban_ok(candidate: str) -> bool:
    """ISO 13616 IBAN: country, check digits, BBAN; the mod-97 of the rearranged number is 1."""
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        number = "".join(str(int(char, 36)) for char in rearranged)
    except ValueError:
        return False
    return int(number) % 97 == 1


def ssn_ok(candidate: str) -> bool:
    """US SSN rules: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    number = digits(candidate)
    if len(number) != 9:
        return False
    area, group, serial = number[:3], number[3:5], number[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def phone_ok(candidate: str) -> bool:
    """A plausible phone number: 7 to 15 digits before any extension (E.164 allows 15)."""
    main = re.split(r"(?i)\s*(?:x|ext\.?|#)\s*\d+$", candidate)[0]
    return 7 <= len(digits(main)) <= 15


def ipv6_ok(candidate: str) -> bool:
    """A valid IPv6 address with at least one non-zero group (`::` alone is not an address)."""
    address = candidate.split("%")[0]
    try:
        parsed = ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return int(parsed) > 1  # "::" and the loopback "::1" name no one


def ipv4_network(candidate: str) -> str:
    """The /24 of an IPv4 address, for `ip_mode="truncate"`."""
    return str(ipaddress.IPv4Network(f"{canonical_ipv4(candidate)}/24", strict=False))


def ipv6_network(candidate: str) -> str:
    """The /48 of an IPv6 address (a site), for `ip_mode="truncate"`."""
    return str(ipaddress.IPv6Network(f"{candidate.split('%')[0]}/48", strict=False))


def canonical_ipv4(candidate: str) -> str:
    """Dotted decimal without leading zeros (`010.0.0.1` and `10.0.0.1` are one address)."""
    return ".".join(map(str, map(int, candidate.split("."))))


def canonical_ipv6(candidate: str) -> str:
    return ipaddress.IPv6Address(candidate.split("%")[0]).compressed


def ipv4_ok(candidate: str) -> bool:
    """Four decimal octets of at most 255, and not an address that names no one (0.0.0.0,
    loopback, broadcast)."""
    parts = candidate.split(".")
    if len(parts) != 4 or not all(map(str.isdigit, parts)):
        return False
    octets = list(map(int, parts))
    return max(octets) <= 255 and octets[0] not in (0, 127) and octets != _BROADCAST


_BROADCAST = [255, 255, 255, 255]
