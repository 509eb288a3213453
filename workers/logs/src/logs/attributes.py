"""Record attributes to their stored form: bounds checked, scrubbed, encoded as JSON.

Structured logs repeat their attributes record after record (route, status, region, build):
within a batch, attributes with the same JSON text are the same value, so they are checked
and scrubbed once. That text is also what gets stored when scrubbing changed nothing, so a
first sighting costs no more than before: one encoding, one check, one scrub.

The text is orjson's (0.15 µs for a typical value, the stdlib's encoder 1.6) when it is surely
the stdlib's text (`jsontext.agrees`), so what is stored never depends on which one ran; any
other value (NaN, None, floats orjson writes its own way, what orjson refuses) takes the
stdlib's text, remembered apart: orjson writes NaN and None alike, so its texts name one value
only when they agree.
"""

from __future__ import annotations

from typing import Any

from logs import jsontext
from logs.bounds import AttributeBounds
from obs_schema.scrubbing import Scrubber

# Only short texts are remembered (a batch of 10,000 records stays within a few MB).
MEMO_CHARS = 1024
MEMO_ENTRIES = 1024
_encode = jsontext.stdlib_text


class AttributeCodec:
    """One per batch (its memory is tied to one scrubber, i.e. one configuration)."""

    def __init__(self, scrubber: Scrubber, bounds: AttributeBounds | None = None) -> None:
        self.scrubber = scrubber
        self.bounds = bounds or AttributeBounds()
        self._fast: dict[str, str] = {}  # orjson's text (agreeing with the stdlib's) -> stored
        self._memo: dict[str, str] = {}  # the stdlib's text -> stored

    def encode(self, attributes: dict[str, Any]) -> str | None:
        """The scrubbed JSON to store (None for no attributes); `RecordError` when a bound is
        exceeded, naming where."""
        if not attributes:
            return None
        fast = jsontext.fast_text(attributes)
        if fast is not None:
            if (stored := self._fast.get(fast)) is not None:
                return stored  # only agreeing texts are remembered here: one value each
            if jsontext.agrees(fast):
                return self._first(attributes, fast, self._fast)
        raw = _text(attributes)
        if raw is not None and (stored := self._memo.get(raw)) is not None:
            return stored
        return self._first(attributes, raw, self._memo)

    def _first(self, attributes: dict[str, Any], raw: str | None, memo: dict[str, str]) -> str:
        """A value's first sighting in the batch: checked, scrubbed, remembered by `raw`."""
        self.bounds.check(attributes)
        scrubbed = self.scrubber.scrub_value(attributes)
        stored = raw if raw is not None and scrubbed == attributes else _encode(scrubbed)
        if (
            raw is not None
            and len(raw) <= MEMO_CHARS
            and len(self._fast) + len(self._memo) < MEMO_ENTRIES
        ):
            memo[raw] = stored
        return stored


def _text(value: dict[str, Any]) -> str | None:
    """The stdlib's JSON text of a value as decoded from JSON (lists, dicts, str, int, float,
    bool, None: equal texts mean equal values), or None for what cannot be encoded as is (the
    bounds check then says why, or the scrubbed copy encodes)."""
    try:
        return _encode(value)
    except (TypeError, ValueError, RecursionError):
        return None
