"""The snapshot() RPC reports the last five minutes, from the shards' per-minute counts."""

from __future__ import annotations

import httpx
import pytest

from localedge.clock import ManualClock
from localedge.stack import Stack
from tests.workers.logs.helpers import T0_MS, ingest

pytestmark = pytest.mark.anyio


async def test_the_snapshot_counts_records_and_errors_of_the_last_five_minutes(
    http: httpx.AsyncClient, stack: Stack, clock: ManualClock
) -> None:
    await ingest(
        http,
        [
            {
                "message": "old",
                "service": "api",
                "level": "error",
                "timestamp": T0_MS - 10 * 60_000,
            },
            {"message": "a", "service": "api", "level": "error"},
            {"message": "b", "service": "web", "level": "fatal"},
            {"message": "c", "service": "web"},
        ],
    )
    clock.advance(30)
    snapshot = await stack.worker("obs-logs").entrypoint().snapshot()
    assert snapshot == {
        "records_5m": 3,
        "errors_5m": 2,
        "errors_by_service_5m": {"api": 1, "web": 1},
    }
