"""Tail-based sampling: decide per trace once it has been quiet, keep the ones that matter.

Always kept: traces with an error, and traces at or above the latency threshold. Of the rest
a fraction is kept, chosen by the trace id itself (its last 8 bytes, random in W3C ids), so
the decision is the same wherever it is taken. Statistics never depend on this: sketches count
every span at ingest, before any decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NS_PER_MS = 1_000_000
BATCH = 5000


@dataclass(frozen=True)
class Policy:
    keep_fraction: float = 1.0  # of traces neither erroneous nor slow
    latency_ms: float = 1000.0
    decision_wait_s: float = 60.0

    @classmethod
    def of(cls, data: dict[str, Any]) -> Policy:
        return cls(
            float(data.get("keep_fraction", 1.0)),
            float(data.get("latency_ms", 1000.0)),
            float(data.get("decision_wait_s", 60.0)),
        )


def fraction(trace_id: str) -> float:
    """Where the trace id falls in [0, 1): uniform for random ids."""
    return int(trace_id[-16:], 16) / 2**64


def keep(trace: dict[str, Any], policy: Policy) -> bool:
    if int(trace["error_count"]) > 0:
        return True
    if (int(trace["end_ns"]) - int(trace["start_ns"])) / NS_PER_MS >= policy.latency_ms:
        return True
    return fraction(str(trace["trace_id"])) < policy.keep_fraction


def split(traces: list[dict[str, Any]], policy: Policy) -> tuple[list[str], list[str]]:
    kept: list[str] = []
    dropped: list[str] = []
    for trace in traces:
        (kept if keep(trace, policy) else dropped).append(str(trace["trace_id"]))
    return kept, dropped
