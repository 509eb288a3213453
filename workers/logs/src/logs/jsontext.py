"""JSON text at ingest speed: orjson's where it is exactly what the stdlib `json` writes, the
stdlib's where it might not be.

orjson (in Pyodide's lock, see DESIGN.md section 4) encodes a record's attributes in a tenth
of the stdlib encoder's time and a shard's chunk in half, but it does not write everything as
`json` does: NaN and infinities become `null`, some floats are written its own way (`1e16`
for `1e+16`, `0.00001` for `1e-05`), and it refuses lone surrogates, integers beyond 64 bits
and keys that are not strings. Users must not see which encoder ran, so `agrees` tells when
orjson's text cannot hold any of those differences, and the stdlib writes the rest.

Bodies are still parsed by `json`: orjson parses a batch in ~0.65 µs per record against ~1.05,
but it silently turns integers beyond 64 bits into floats (which the bounds check must see as
integers), and finding such digit runs in the body first cost ~0.3 µs per record: no gain.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# What `json` writes (the compact separators the stored JSON has always used).
stdlib_text = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

# Where orjson's text of a value may differ from `json`'s: `null` (NaN and infinities become
# null), a digit before an exponent (`1e16` for `1e+16`) and floats in [1e-5, 1e-4)
# (`0.00001` for `1e-05`). Strings may match too: they only send the value the stdlib's way.
_MAY_DIFFER = re.compile(r"null|[0-9][eE]|\.0000")


def fast_text(value: Any) -> str | None:
    """orjson's compact text of a value decoded from JSON, or None when orjson refuses it
    (lone surrogates, integers beyond 64 bits, keys that are not strings). Equal texts mean
    equal values, except that NaN, the infinities and None all give `null`."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return None


def agrees(text: str) -> bool:
    """Whether `fast_text`'s `text` is surely what `json` writes for the same value, and so
    names one value: no `null`, no float that orjson writes its own way."""
    return _MAY_DIFFER.search(text) is None


def rows_text(rows: Any) -> str:
    """The compact JSON text of rows of strings, integers and None (no floats: orjson and
    `json` write those three alike), as `json` writes it."""
    try:
        return orjson.dumps(rows).decode()
    except TypeError:
        return stdlib_text(rows)  # a lone surrogate, or an integer beyond 64 bits
