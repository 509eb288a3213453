"""The pattern pass: one scan per text with the alternatives of the classes it could contain.

Hints (`hints.classes_in`) choose the classes; the combined pattern for that choice
is compiled once and cached. Each candidate goes to its class's handler, which returns the
replacement or declines - then that span is scanned again without the class (a 16-digit number
failing Luhn may still be a phone number; `10:23:45` is no IPv6 address).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from obs_schema.scrubbing import checks
from obs_schema.scrubbing.config import ScrubConfig
from obs_schema.scrubbing.marker import Marker
from obs_schema.scrubbing.patterns import CLASS_OF, GROUPS, combined

Handler = Callable[[re.Match[str], frozenset[str]], str]

_CACHE_LIMIT = 4096
_VERSION_CONTEXT = re.compile(r"(?i)(?:\bv|version|ver\.?|release|build|firmware|rev)\s?[:=]?\s?$")


def _after_version_word(before: str) -> bool:
    """Whether `before` ends with a version word (`_VERSION_CONTEXT`). Each word holds one of
    these parts, whose letters `(?i)` matches only as their own two cases (`s` and `i` also
    match U+017F, U+0131 and U+0130), so a text without any of them is answered without the
    search (most texts before an address)."""
    low = before.lower()
    if "v" in low or "rele" in low or "bu" in low or "rmware" in low:
        return _VERSION_CONTEXT.search(before) is not None
    return False


class TextScanner:
    def __init__(self, config: ScrubConfig, marker: Marker) -> None:
        self.config = config
        self._marker = marker
        self._regexes: dict[frozenset[str], re.Pattern[str]] = {}
        # Clients' addresses repeat line after line: a valid IPv4 address's replacement (which
        # depends on the address and this configuration only) is remembered, bounded.
        self._addresses: dict[str, str] = {}
        self._handlers: dict[str, Handler] = {
            "private_key": self._whole("private_key"),
            "credentials": self._credentials,
            "jwt": self._whole("jwt"),
            "token": self._token,
            "email": self._email,
            "iban": self._checked("iban", checks.iban_ok, lambda s: s.replace(" ", "").upper()),
            "card": self._card,
            "ssn": self._checked("ssn", checks.ssn_ok, checks.digits),
            "phone": self._phone,
            "ipv6": self._ipv6,
            "ipv4": self._ipv4,
        }

    def scan(self, text: str, start: int, end: int, classes: frozenset[str]) -> str:
        """`text[start:end]` with the candidates of `classes` replaced."""
        if not classes:
            return text[start:end]
        pieces: list[str] = []
        last = start
        for match in self._regex(classes).finditer(text, start, end):
            replacement = self._handlers[CLASS_OF[match.lastgroup or ""]](match, classes)
            if replacement != match.group():
                pieces.append(text[last : match.start()])
                pieces.append(replacement)
                last = match.end()
        if not pieces:
            return text[start:end]
        pieces.append(text[last:end])
        return "".join(pieces)

    def _regex(self, classes: frozenset[str]) -> re.Pattern[str]:
        regex = self._regexes.get(classes)
        if regex is None:
            regex = self._regexes[classes] = combined(classes)
        return regex

    def _decline(self, match: re.Match[str], classes: frozenset[str], kind: str) -> str:
        """Scan the candidate's span again without its class."""
        return self.scan(match.string, match.start(), match.end(), classes - GROUPS[kind])

    # --- handlers -------------------------------------------------------------------------
    def _whole(self, kind: str) -> Handler:
        def handle(match: re.Match[str], classes: frozenset[str]) -> str:
            return self._marker(kind, match.group())

        return handle

    def _checked(
        self, kind: str, valid: Callable[[str], bool], canonical: Callable[[str], str]
    ) -> Handler:
        def handle(match: re.Match[str], classes: frozenset[str]) -> str:
            found = match.group()
            if not valid(found):
                return self._decline(match, classes, kind)
            return self._marker(kind, canonical(found))

        return handle

    def _email(self, match: re.Match[str], classes: frozenset[str]) -> str:
        return self._marker("email", match.group().replace("%40", "@").lower())

    def _credentials(self, match: re.Match[str], classes: frozenset[str]) -> str:
        found = match.group()
        start = match.start("credentials_info") - match.start()
        return found[:start] + self._marker("credentials", match.group("credentials_info")) + "@"

    def _token(self, match: re.Match[str], classes: frozenset[str]) -> str:
        found, gap = match.group(), match.group("token_scheme")
        if gap is None:
            return self._marker("token", found)
        split = match.end("token_scheme") - match.start()
        value = found[split:]
        if not (any(c.isdigit() for c in value) or len(value) >= 20):
            return self._decline(match, classes, "token")  # "Bearer authentication"
        return found[:split] + self._marker("token", value)

    def _card(self, match: re.Match[str], classes: frozenset[str]) -> str:
        found, separator = match.group(), match.group("card_sep")
        if checks.is_card(found):
            return self._marker("card", checks.digits(found))
        if separator:  # "4111 1111 1111 1111 2024": trailing groups that are not the card
            groups = found.split(separator)
            for size in range(len(groups) - 1, 2, -1):
                head = separator.join(groups[:size])
                if checks.is_card(head):
                    rest_start = match.start() + len(head)
                    rest = self.scan(match.string, rest_start, match.end(), classes)
                    return self._marker("card", checks.digits(head)) + rest
        return self._decline(match, classes, "card")

    def _phone(self, match: re.Match[str], classes: frozenset[str]) -> str:
        found = match.group()
        head = ""
        if "phone_number" in match.re.groupindex and match.group("phone_number") is not None:
            # "call 5551234567": keep the word
            head = found[: match.start("phone_number") - match.start()]
        number = found[len(head) :]
        if not checks.phone_ok(number):
            return self._decline(match, classes, "phone")
        canonical = ("+" if number.startswith("+") else "") + checks.digits(number)
        return head + self._marker("phone", canonical)

    def _ipv4(self, match: re.Match[str], classes: frozenset[str]) -> str:
        found = match.group()
        replacement = self._addresses.get(found)  # an address seen before: valid, replaced so
        if replacement is None and not checks.ipv4_ok(found):
            return self._decline(match, classes, "ipv4")
        before = match.string[max(0, match.start() - 12) : match.start()]
        if _after_version_word(before):
            return found  # "version 1.2.3.4" is a version
        if replacement is None:
            replacement = self._ip("ipv4", found, checks.ipv4_network, checks.canonical_ipv4)
            if len(self._addresses) >= _CACHE_LIMIT:
                self._addresses.clear()
            self._addresses[found] = replacement
        return replacement

    def _ipv6(self, match: re.Match[str], classes: frozenset[str]) -> str:
        found = match.group()
        if not checks.ipv6_ok(found):
            return self._decline(match, classes, "ipv6")
        return self._ip("ipv6", found, checks.ipv6_network, checks.canonical_ipv6)

    def _ip(
        self,
        kind: str,
        address: str,
        network: Callable[[str], str],
        canonical: Callable[[str], str],
    ) -> str:
        mode = self.config.ip_mode
        if mode == "truncate":
            return network(address)
        if mode == "redact":
            return self._marker.plain(kind)
        return self._marker(kind, canonical(address))
