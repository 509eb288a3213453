"""The scrubber: personal data and secrets out of text and JSON values, typed markers in.

Text goes through the deployment's extra patterns, then the key pass (`password=...`,
`"apiKey": "..."`, see `keypass`), then the pattern pass (emails, cards, phones, IPs, IBANs,
SSNs, JWTs, tokens, URL credentials, private keys; see `textscan`). Markers are inert to every
pass, so scrubbing twice changes nothing. `scrub_value` walks dicts and lists: values under
secret keys become markers whatever they look like, keys and strings are scrubbed as text, and
long integers are checked as card and phone numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from obs_schema.scrubbing import checks, keys
from obs_schema.scrubbing.config import CLASSES, ScrubConfig
from obs_schema.scrubbing.hints import groups_of, hint_bits
from obs_schema.scrubbing.keypass import EMPTY_VALUES, MIN_DIGITS, KeyPass, lowered
from obs_schema.scrubbing.marker import Marker, is_marker
from obs_schema.scrubbing.textscan import TextScanner

_MAX_DEPTH = 32
# Short strings repeat endlessly in structured logs (keys, regions, routes, methods): their
# scrubbed form is remembered. The cache is cleared when full, never consulted for long text.
_SHORT = 48
_CACHE_LIMIT = 8192
_BIG_INT = 10**11  # integers this long may be card or phone numbers


class Scrubber:
    def __init__(self, config: ScrubConfig | None = None) -> None:
        self.config = config or ScrubConfig()
        self._marker = Marker(self.config.key)
        self._policy = keys.KeyPolicy(self.config.allow_keys, self.config.sensitive_keys)
        self._keys = KeyPass(self._policy, self._marker)
        self._scanner = TextScanner(self.config, self._marker)
        self._enabled = self._enabled_groups()
        self._extras = [
            (name, re.compile(pattern)) for name, pattern in self.config.extra_patterns.items()
        ]
        self._short: dict[str, str] = {}
        # Hint bits -> (groups enabled here, the same without the key pass's "kv"): a few
        # dozen combinations, each computed once instead of per text.
        self._groups: dict[int, tuple[frozenset[str], frozenset[str]]] = {}

    def scrub_text(self, text: str) -> str:
        """`text` with every detected value replaced by its typed marker."""
        if len(text) < 3:
            return text
        if len(text) <= _SHORT:
            cached = self._short.get(text)
            if cached is None:
                if len(self._short) >= _CACHE_LIMIT:
                    self._short.clear()
                cached = self._short[text] = self._scrub(text)
            return cached
        return self._scrub(text)

    def _scrub(self, text: str) -> str:
        if self._extras:
            for name, pattern in self._extras:
                text = pattern.sub(self._extra_marker(name), text)
        lower = lowered(text)
        classes, scan = self._classes(text, lower)
        if "kv" in classes:
            scrubbed = self._keys.scrub(text, lower)
            if scrubbed is not text:
                text = scrubbed
                scan = self._classes(text, lowered(text))[1]
        return self._scanner.scan(text, 0, len(text), scan)

    def _classes(self, text: str, lower: str) -> tuple[frozenset[str], frozenset[str]]:
        """The groups `text` could contain (`hints.classes_in`), and the same without "kv"."""
        bits = hint_bits(text, lower)
        found = self._groups.get(bits)
        if found is None:
            if len(self._groups) >= _CACHE_LIMIT:
                self._groups.clear()
            classes = groups_of(bits) & self._enabled
            found = self._groups[bits] = (classes, classes - {"kv"})
        return found

    def scrub_value(self, value: Any) -> Any:
        """A scrubbed copy of a JSON-like value (dicts, lists, strings, numbers)."""
        return self._walk(value, 0)

    def marker(self, kind: str, value: str) -> str:
        """The marker this deployment gives `value` of class `kind` (for lookups by value)."""
        return self._marker(kind, value)

    def _extra_marker(self, name: str) -> Callable[[re.Match[str]], str]:
        return lambda match: self._marker(name, match.group())

    # --- walking values -------------------------------------------------------------------
    def _walk(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, dict):
            return {self.scrub_text(str(k)): self._item(str(k), v, depth) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._walk(item, depth + 1) for item in value]
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _BIG_INT:
            scrubbed = self.scrub_text(str(value))
            return value if scrubbed == str(value) else scrubbed
        return value

    def _item(self, key: str, value: Any, depth: int) -> Any:
        if depth >= _MAX_DEPTH:
            return "[truncated]"
        kind = self._policy.classify(key) if "secret" in self._enabled else None
        if kind == keys.SECRET and value is not None and not isinstance(value, bool):
            if isinstance(value, str) and (
                value.strip().lower() in EMPTY_VALUES or is_marker(value)
            ):
                return value
            return self._marker("secret", value if isinstance(value, str) else repr(value))
        if kind in MIN_DIGITS and isinstance(value, str | int) and not isinstance(value, bool):
            number = checks.digits(str(value))
            if MIN_DIGITS[kind] <= len(number) <= 19:
                return self._marker(kind, number)
        return self._walk(value, depth + 1)

    def _enabled_groups(self) -> frozenset[str]:
        disabled = set(self.config.disabled)
        if self.config.ip_mode == "keep":
            disabled |= {"ipv4", "ipv6"}
        enabled = set(CLASSES) - disabled
        if "phone" in enabled:
            enabled.add("phone_word")
        if "secret" in enabled:
            enabled.add("kv")
        return frozenset(enabled)
