"""Per-minute statistics of an ingest batch, grouped by key, ready for the stats shards."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apm.sharding import stats_shard
from apm.window import MINUTE_NS
from obs_schema.sketch import Sketch

NS_PER_MS = 1_000_000


@dataclass(slots=True)
class _Entry:
    sketch: Sketch = field(default_factory=Sketch)
    errors: int = 0
    slowest: list[Any] | None = None  # [duration_ns, trace_id, span_id, start_ns, error]
    error_example: list[Any] | None = None


class Collector:
    """Sketches per `(kind, a, b, minute)`; every recorded span counts once."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str, int], _Entry] = {}

    def add(
        self,
        kind: str,
        a: str,
        b: str,
        start_ns: int,
        end_ns: int,
        error: bool,
        trace_id: str,
        span_id: str,
    ) -> None:
        key = (kind, a, b, start_ns // MINUTE_NS)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        duration = end_ns - start_ns
        entry.sketch.add(duration / NS_PER_MS)
        # The example list only when it is kept: most spans are neither slowest nor errors.
        example = None
        if entry.slowest is None or duration > entry.slowest[0]:
            example = entry.slowest = [duration, trace_id, span_id, start_ns, error]
        if error:
            entry.errors += 1
            entry.error_example = example or [duration, trace_id, span_id, start_ns, error]

    def __len__(self) -> int:
        return len(self._entries)

    def by_shard(self) -> dict[int, list[dict[str, Any]]]:
        """RPC-ready entries per stats shard."""
        shards: dict[int, list[dict[str, Any]]] = {}
        for (kind, a, b, minute), entry in self._entries.items():
            examples = [entry.slowest] if entry.slowest else []
            if entry.error_example and entry.error_example is not entry.slowest:
                examples.append(entry.error_example)
            shards.setdefault(stats_shard(kind, a), []).append(
                {
                    "kind": kind,
                    "a": a,
                    "b": b,
                    "minute": minute,
                    "errors": entry.errors,
                    "sketch": entry.sketch.to_bytes(),
                    "examples": examples,
                }
            )
        return shards
