"""The key pass: values under secret or PII keys in free text and embedded JSON.

`password=hunter2`, `"apiKey": "sk_..."`, `Authorization: Bearer abc`, `Cookie: a=b; c=d`,
`?access_token=...&`, `'ssn': '123456789'`. The pattern (`patterns.KEY_VALUE`) is anchored on
a stem and run on the lower-cased text; the key's start is found by walking back from the stem,
and the key policy (`keys.KeyPolicy`) judges the whole key, so `token_count=5` stays.
"""

from __future__ import annotations

import re

from obs_schema.scrubbing import checks, keys
from obs_schema.scrubbing.marker import Marker, is_marker
from obs_schema.scrubbing.patterns import KEY_CHARS, KEY_VALUE

EMPTY_VALUES = frozenset({"", "null", "none", "nil", "true", "false", "undefined", "-", "***"})
MIN_DIGITS = {keys.PHONE: 7, keys.SSN: 9, keys.CARD: 12}
_PROSE_VALUE = re.compile(r"[A-Za-z]{1,11}")
_PROSE_KEY = re.compile(r"[A-Za-z][a-z]*")
_SCHEME = re.compile(r"(?i)(?:bearer|basic|token|digest|negotiate)\s+")
_MAX_KEY = 64


def lowered(text: str) -> str:
    """`text.lower()`, keeping the length (a few Unicode letters grow when lower-cased)."""
    lower = text.lower()
    if len(lower) != len(text):
        lower = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return lower


class KeyPass:
    def __init__(self, policy: keys.KeyPolicy, marker: Marker) -> None:
        self._policy = policy
        self._marker = marker

    def scrub(self, text: str, lower: str) -> str:
        """`lower` is `lowered(text)`: positions in both are the same."""
        pieces: list[str] = []
        last = 0
        for match in KEY_VALUE.finditer(lower):
            replacement = self._value(text, lower, match)
            if replacement is not None:
                start, end = match.span("kv_value")
                pieces += (text[last:start], replacement)
                last = end
        if not pieces:
            return text
        pieces.append(text[last:])
        return "".join(pieces)

    def _value(self, text: str, lower: str, match: re.Match[str]) -> str | None:
        """The replacement of the value, or None to leave it to the pattern pass."""
        key_start = match.start()
        while (
            key_start > 0
            and lower[key_start - 1] in KEY_CHARS
            and match.start() - key_start < _MAX_KEY
        ):
            key_start -= 1
        if (
            key_start > 0
            and text[key_start - 1] == "["
            and is_marker(text[key_start - 1 : match.end() + 1])
        ):
            return None  # our own marker, `[secret:0a1b2c3d]`
        key = text[key_start : match.end("kv_tail")]
        quote = match.group("kv_q")
        if quote and text[max(0, key_start - len(quote)) : key_start] != quote:
            return None  # `"password'`: not a quoted key
        kind = self._policy.classify(key)
        if kind is None:
            return None
        raw = text[match.start("kv_value") : match.end("kv_value")]
        inner, quote = unquote(raw)
        if kind == keys.SECRET:
            return self._secret(match, key, inner, quote)
        number = checks.digits(inner)
        if MIN_DIGITS[kind] <= len(number) <= 19 and len(number) * 2 >= len(inner.strip()):
            return quote + self._marker(kind, number) + quote
        return None

    def _secret(self, match: re.Match[str], key: str, inner: str, quote: str) -> str | None:
        if inner.strip().lower() in EMPTY_VALUES or is_marker(inner):
            return None
        if _looks_like_prose(match, key, inner, quote):
            return None
        scheme = _SCHEME.match(inner)
        prefix = scheme.group() if scheme else ""
        return quote + prefix + self._marker("secret", inner[len(prefix) :]) + quote


def unquote(value: str) -> tuple[str, str]:
    """(`"abc"` -> `abc`, `"`): the value inside its quotes and the quote used."""
    for quote in ('\\"', '"', "'"):
        if len(value) >= 2 * len(quote) and value.startswith(quote) and value.endswith(quote):
            return value[len(quote) : len(value) - len(quote)], quote
    return value, ""


def _looks_like_prose(match: re.Match[str], key: str, inner: str, quote: str) -> bool:
    """`Session: started`, `Token: expired` - a label and a word, not a secret."""
    separator = match.group("kv_sep")
    return (
        ":" in separator
        and separator.endswith(" ")
        and not quote
        and not match.group("kv_q")
        and _PROSE_KEY.fullmatch(key) is not None
        and _PROSE_VALUE.fullmatch(inner) is not None
    )
