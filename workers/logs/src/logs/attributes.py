"""Record attributes to their stored form: bounds checked, scrubbed, encoded as JSON.

Structured logs repeat their attributes record after record (route, status, region, build):
within a batch, attributes with the same JSON text are the same value, so they are checked
and scrubbed once. That text is also what gets stored when scrubbing changed nothing, so a
first sighting costs no more than before: one encoding, one check, one scrub.
"""

from __future__ import annotations

import json
from typing import Any

from logs.bounds import AttributeBounds
from obs_schema.scrubbing import Scrubber

# Only short texts are remembered (a batch of 10,000 records stays within a few MB).
MEMO_CHARS = 1024
MEMO_ENTRIES = 1024
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class AttributeCodec:
    """One per batch (its memory is tied to one scrubber, i.e. one configuration)."""

    def __init__(self, scrubber: Scrubber, bounds: AttributeBounds | None = None) -> None:
        self.scrubber = scrubber
        self.bounds = bounds or AttributeBounds()
        self._memo: dict[str, str] = {}

    def encode(self, attributes: dict[str, Any]) -> str | None:
        """The scrubbed JSON to store (None for no attributes); `RecordError` when a bound is
        exceeded, naming where."""
        if not attributes:
            return None
        raw = _text(attributes)
        if raw is not None and (stored := self._memo.get(raw)) is not None:
            return stored
        self.bounds.check(attributes)
        scrubbed = self.scrubber.scrub_value(attributes)
        stored = raw if raw is not None and scrubbed == attributes else _encode(scrubbed)
        if raw is not None and len(raw) <= MEMO_CHARS and len(self._memo) < MEMO_ENTRIES:
            self._memo[raw] = stored
        return stored


def _text(value: dict[str, Any]) -> str | None:
    """The JSON text of a value as decoded from JSON (lists, dicts, str, int, float, bool,
    None: equal texts mean equal values), or None for what cannot be encoded as is (the
    bounds check then says why, or the scrubbed copy encodes)."""
    try:
        return _encode(value)
    except (TypeError, ValueError, RecursionError):
        return None
