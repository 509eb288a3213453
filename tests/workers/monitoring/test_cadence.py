"""Runs sit on a fixed grid; an unconfirmed failure is retried promptly."""

from __future__ import annotations

import pytest

from monitoring.cadence import Cadence
from monitoring.state import MonitorState, Status

CADENCE = Cadence.from_spec(
    {"interval": 60, "timeout": 10, "confirmations": 3, "retry_interval": 5}
)


@pytest.mark.parametrize(
    ("state", "now", "expected"),
    [
        (MonitorState(status=Status.UP), 60_000, 120_000),
        (MonitorState(status=Status.UP), 61_500, 120_000),  # a late run does not shift the grid
        (MonitorState(status=Status.UP, failures=1), 60_000, 65_000),
        (MonitorState(status=Status.UP, failures=2), 65_000, 70_000),
        (MonitorState(status=Status.UP, failures=2), 117_000, 120_000),  # the grid comes first
        (MonitorState(status=Status.DOWN, failures=5), 60_000, 120_000),
    ],
)
def test_the_next_run(state: MonitorState, now: int, expected: int) -> None:
    assert CADENCE.after(state, anchor_ms=0, now_ms=now) == expected


def test_durations_and_the_heartbeat_deadline() -> None:
    cadence = Cadence.from_spec({"interval": 300, "grace": 60})
    assert (cadence.interval_ms, cadence.confirmations, cadence.retry_ms) == (300_000, 2, 5_000)
    assert cadence.heartbeat_deadline(1_000) == 361_000
    assert cadence.next_slot(anchor_ms=10_000, now_ms=5_000) == 10_000
