"""When a monitor runs next.

Runs sit on a fixed grid, `anchor + k * interval`, so a slow check or a late alarm never makes
the schedule drift. A failure that is not yet confirmed is retried after `retry_interval`
(the issue's "second attempt made promptly"), then the grid resumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitoring.state import MonitorState, Status

SECOND_MS = 1000


@dataclass(frozen=True)
class Cadence:
    interval_ms: int
    timeout_ms: int
    confirmations: int
    retry_ms: int
    grace_ms: int = 0  # heartbeats: how late a beat may be

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Cadence:
        return cls(
            interval_ms=_ms(spec.get("interval", 60)),
            timeout_ms=_ms(spec.get("timeout", 10)),
            confirmations=int(spec.get("confirmations", 2)),
            retry_ms=_ms(spec.get("retry_interval", 5)),
            grace_ms=_ms(spec.get("grace", 0)),
        )

    def next_slot(self, anchor_ms: int, now_ms: int) -> int:
        """The first grid instant strictly after `now_ms`."""
        if now_ms < anchor_ms:
            return anchor_ms
        return anchor_ms + ((now_ms - anchor_ms) // self.interval_ms + 1) * self.interval_ms

    def after(self, state: MonitorState, anchor_ms: int, now_ms: int) -> int:
        """Due time of the next attempt after a run that left the monitor in `state`."""
        slot = self.next_slot(anchor_ms, now_ms)
        confirming = 0 < state.failures < self.confirmations and state.status is not Status.DOWN
        return min(slot, now_ms + self.retry_ms) if confirming else slot

    def heartbeat_deadline(self, beat_ms: int) -> int:
        return beat_ms + self.interval_ms + self.grace_ms


def _ms(seconds: Any) -> int:
    return round(float(seconds) * SECOND_MS)
