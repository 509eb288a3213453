"""The other Workers' numbers as incident impact: per service where known, overall otherwise."""

from __future__ import annotations

import pytest

from alerting.signals import gather, impact
from localedge.env import Env

pytestmark = pytest.mark.anyio


def test_impact_quotes_overall_and_per_service_numbers_and_tolerates_gaps() -> None:
    snapshots = {
        "apm": {
            "requests_5m": 10,
            "p95_ms_5m": None,
            "by_service_5m": {"api": {"error_rate": 0.5}},
        },
        "logs": {"errors_5m": 3, "errors_by_service_5m": {"web": 3}},
    }
    assert impact(snapshots, ["api", "web", "db"]) == {
        "apm": {"requests_5m": 10, "p95_ms_5m": None},
        "logs": {"errors_5m": 3},
        "services": {"api": {"error_rate": 0.5}, "web": {"log_errors": 3}},
        "sources": ["apm", "logs"],
    }
    assert impact({}, ["api"]) == {"apm": {}, "logs": {}, "services": {}, "sources": []}


async def test_a_worker_that_fails_or_is_missing_is_left_out() -> None:
    class Answering:
        async def snapshot(self) -> dict[str, int]:
            return {"down": 1}

    class Failing:
        async def snapshot(self) -> dict[str, int]:
            raise RuntimeError("boom")

    snapshots, available = await gather(Env({"MONITORING": Answering(), "LOGS": Failing()}))
    assert (snapshots, available) == ({"monitoring": {"down": 1}}, ["monitoring"])
