"""Normalised SQL statement fingerprints: the same query with other literals is one group.

`SELECT * FROM pitches WHERE id = 42 AND tag IN (1, 2, 3)` and the same statement with `id = 7`
and a five-item list both become `select * from pitches where id = ? and tag in (?)`. Literals
(strings, numbers, hex, booleans, NULL-free), IN-lists and `VALUES` rows are collapsed, comments
dropped, whitespace and keyword case normalised. Identifiers in quotes are kept: they name
tables, not values. This is what pg_stat_statements and the APM vendors call a query signature.
"""

from __future__ import annotations

import hashlib
import re

MAX_STATEMENT_CHARS = 4096  # longer statements are fingerprinted on their first 4 KiB

_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/|#[^\n]*", re.DOTALL)
_STRINGS = re.compile(r"'(?:[^']|'')*'|\$\$.*?\$\$", re.DOTALL)
_NUMBERS = re.compile(r"(?<![\w$.])[-+]?(?:0x[0-9a-f]+|\d+(?:\.\d*)?(?:e[-+]?\d+)?|\.\d+)\b")
_BOOLEANS = re.compile(r"\b(?:true|false)\b")
_PLACEHOLDERS = re.compile(r"\$\d+|:\w+|%s|%\(\w+\)s|@\w+")
_LISTS = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")
_VALUES_ROWS = re.compile(r"\bvalues\s*\(\?\)(?:\s*,\s*\(\?\))+")
_SPACES = re.compile(r"\s+")
_OPERATORS = re.compile(r"\s*(<>|!=|<=|>=|=|<|>)\s*")
_COMMAS = re.compile(r"\s*,\s*")
_OPERATION = re.compile(r"^\s*(\w+)")


_CACHE: dict[str, str] = {}
CACHE_SIZE = 4096  # parameterised statements repeat: most lookups are hits


def fingerprint(statement: str) -> str:
    """The normalised text of `statement` (see the module docstring)."""
    found = _CACHE.get(statement)
    if found is None:
        if len(_CACHE) >= CACHE_SIZE:
            _CACHE.clear()
        found = _CACHE[statement] = _normalise(statement)
    return found


def _normalise(statement: str) -> str:
    text = _COMMENTS.sub(" ", statement[:MAX_STATEMENT_CHARS])
    text = _STRINGS.sub("?", text)
    text = _quote_free_lower(text)
    text = _PLACEHOLDERS.sub("?", text)
    text = _NUMBERS.sub("?", text)
    text = _BOOLEANS.sub("?", text)
    text = _COMMAS.sub(", ", _OPERATORS.sub(r" \1 ", text))
    text = _SPACES.sub(" ", text).strip().rstrip(";").strip()
    text = _LISTS.sub("(?)", text)
    return _VALUES_ROWS.sub("values (?)", text)


def fingerprint_id(normalised: str) -> str:
    """A short stable id for a fingerprint (URLs, alert labels)."""
    return hashlib.sha1(normalised.encode(), usedforsecurity=False).hexdigest()[:16]


def operation(statement: str) -> str:
    """The statement's verb (`SELECT`, `INSERT`...), for when `db.operation` is absent."""
    match = _OPERATION.match(statement)
    return match.group(1).upper() if match else ""


def _quote_free_lower(text: str) -> str:
    # Lower-case everything outside double-quoted or backticked identifiers.
    parts = re.split(r'("(?:[^"]|"")*"|`[^`]*`)', text)
    return "".join(part if part[:1] in ('"', "`") else part.lower() for part in parts)
