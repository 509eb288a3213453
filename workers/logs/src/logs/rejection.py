"""Why a record was refused: the per-record half of partial acceptance.

A batch is accepted record by record: the answer names each refused record by its index with
the reason (`{"index": 3, "error": "service is required ..."}`), and the good ones are stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_LISTED = 100  # a batch of 10,000 bad records answers with the first 100 reasons


class RecordError(ValueError):
    """One record cannot be stored; the message says why, never echoing the value."""


@dataclass
class Rejections:
    count: int = 0
    listed: list[dict[str, Any]] = field(default_factory=list)

    def add(self, index: int, reason: str) -> None:
        self.count += 1
        if len(self.listed) < MAX_LISTED:
            self.listed.append({"index": index, "error": reason})

    def summary(self) -> str:
        """One line for OTLP's `partialSuccess.errorMessage`."""
        shown = "; ".join(f"record {r['index']}: {r['error']}" for r in self.listed[:5])
        more = self.count - min(5, len(self.listed))
        return shown + (f" (and {more} more)" if more > 0 else "")
