"""Undo the encodings attackers stack to slip a payload past pattern matching.

A value is decoded until it stops changing (URL escapes, `%uXXXX`, HTML entities, JavaScript
and CSS escapes, overlong UTF-8), folded with Unicode NFKC (full-width `\uff1c` becomes `<`),
stripped of NULs and control characters, and lower-cased. Two further views serve the SQL
rules: comments replaced by a space (MySQL's `/*!50000select*/` keeps its content, since MySQL
executes it) and all whitespace collapsed. Rules match these views, never the raw bytes, so one
rule covers every spelling of the same payload.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote, unquote_plus

MAX_ROUNDS = 4  # three layers of encoding is already more than any real client sends
MAX_CHARS = 8192  # rules see at most this much of one value; the cost stays bounded

_PERCENT_U = re.compile(r"%u([0-9a-fA-F]{4})")
_JS_ESCAPE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u\{?([0-9a-fA-F]{4,6})\}?)")
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{2,6})\s?")
# Overlong UTF-8 encodings of '.', '/', '\\' that old decoders accepted (CVE-2000-0884 style).
_OVERLONG = {
    "%c0%ae": ".",
    "%e0%80%ae": ".",
    "%c0%af": "/",
    "%e0%80%af": "/",
    "%c1%9c": "\\",
    "%c0%2f": "/",
    "%c0%5c": "\\",
    "%c1%1c": "/",
    "%c1%af": "/",
}
_OVERLONG_RE = re.compile("|".join(re.escape(k) for k in _OVERLONG), re.IGNORECASE)
# Characters that some decoders (IIS "best fit", lax Unicode handling) read as '/' or '\\'
# but that NFKC leaves alone.
_SLASHES = str.maketrans(
    {
        "\u2215": "/",
        "\u2044": "/",
        "\u29f8": "/",
        "\uefc8": "/",
        "\uf025": "/",
        "\u2216": "\\",
        "\u29f5": "\\",
        "\u29f9": "\\",
    }
)
_ENCODED = re.compile(r"[%&\\]")  # every decoder needs one of these to act
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_LINE_BREAKS = re.compile(r"[^\S\r\n]*[\r\n]+\s*")
_BLANKS = re.compile(r"[^\S\r\n]+|[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_SQL_COMMENT = re.compile(r"/\*!?\d{0,6}(.*?)(?:\*/|$)", re.DOTALL)
_SQL_LINE_COMMENT = re.compile(r"(?:--|#)[^\n]*")


@dataclass(frozen=True, slots=True)
class Views:
    """One value as each family of rules wants to see it."""

    decoded: str  # every encoding layer removed, case kept (evidence comes from here)
    text: str  # decoded, NFKC-folded, control characters dropped, lower-case, spaces collapsed
    sql: str  # text with SQL comments replaced by spaces, then spaces collapsed
    compact: str  # text without any whitespace: `s e l e c t` tricks and `<scr ipt>` splits
    layers: int  # how many rounds of decoding changed the value: 2+ is itself suspicious


def decode_once(value: str, *, plus_is_space: bool) -> str:
    """One round of every decoder; applied until a fixed point."""
    text = _OVERLONG_RE.sub(lambda m: _OVERLONG[m.group(0).lower()], value)
    text = _PERCENT_U.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = unquote_plus(text) if plus_is_space else unquote(text)
    text = html.unescape(text)
    text = _JS_ESCAPE.sub(_js_char, text)
    return _CSS_ESCAPE.sub(_css_char, text)


def fully_decode(value: str, *, plus_is_space: bool = False) -> tuple[str, int]:
    """`value` with every layer of encoding removed, and how many layers there were."""
    text = value[:MAX_CHARS]
    if not _ENCODED.search(text) and not (plus_is_space and "+" in text):
        return text, 0  # nothing any decoder would change: most values, skipped cheaply
    for layer in range(MAX_ROUNDS):
        decoded = decode_once(text, plus_is_space=plus_is_space)
        if decoded == text:
            return text, layer
        text = decoded[:MAX_CHARS]
    return text, MAX_ROUNDS


def fold(text: str) -> str:
    """NFKC, no control characters, lower case, runs of Unicode spaces as one space.

    Line breaks survive (as one `\\n`): to a shell a newline separates commands.
    """
    folded = text if text.isascii() else unicodedata.normalize("NFKC", text).translate(_SLASHES)
    folded = _CONTROL.sub("", folded).lower()
    folded = _BLANKS.sub(" ", folded)
    return _LINE_BREAKS.sub("\n", folded).strip(" ")  # an edge newline may be a separator


def strip_sql_comments(text: str) -> str:
    """Block comments become a space, keeping MySQL executable comments' content."""
    if "/*" not in text:
        return text
    without_blocks = _SQL_COMMENT.sub(lambda m: f" {m.group(1)} " if _kept(m) else " ", text)
    return _SPACES.sub(" ", without_blocks).strip()


def views(value: str, *, plus_is_space: bool = False) -> Views:
    decoded, layers = fully_decode(value, plus_is_space=plus_is_space)
    text = fold(decoded)
    return Views(
        decoded=decoded,
        text=text,
        sql=strip_sql_comments(text),
        compact=_SPACES.sub("", text),
        layers=layers,
    )


def without_line_comments(sql: str) -> str:
    """The SQL view minus `--` and `#` comments (for rules about what is left executable)."""
    return _SQL_LINE_COMMENT.sub(" ", sql)


def _kept(match: re.Match[str]) -> bool:
    return match.group(0).startswith("/*!")


def _js_char(match: re.Match[str]) -> str:
    hex2, uni = match.groups()
    code = int(hex2, 16) if hex2 else int(uni, 16)
    return chr(code) if code <= 0x10FFFF else match.group(0)


def _css_char(match: re.Match[str]) -> str:
    # Only ASCII results: `\3c` is `<` to a CSS parser, while `C:\dev\badd` stays a path.
    code = int(match.group(1), 16)
    return chr(code) if 0x20 <= code < 0x7F else match.group(0)
