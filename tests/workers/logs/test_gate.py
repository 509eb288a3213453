"""Alert decisions: critical records and error bursts, each once per service and fingerprint."""

from __future__ import annotations

from typing import Any

import pytest

from localedge.storage import DurableObjectStorage
from logs.gate import GateCore, summarise

T = 1_795_773_600_000
POLICY = {"threshold": 5, "window_ms": 5 * 60_000, "dedup_ms": 30 * 60_000}


def row(
    level: int,
    service: str = "api",
    fp: str = "a" * 16,
    message: str = "boom",
    trace: str | None = None,
    ts: int = T,
) -> list[Any]:
    return [ts, ts, level, service, trace, None, fp, message, None, "http", "local"]


@pytest.fixture
def gate(storage: DurableObjectStorage) -> GateCore:
    return GateCore(storage.sql)


def test_summaries_group_errors_and_keep_the_worst_sample() -> None:
    rows = [
        row(2),
        row(5, message="first"),
        row(7, message="worst", trace="t" * 32),
        row(5, message="later"),
        row(5, "web", "b" * 16),
    ]
    assert summarise(rows) == [
        {
            "service": "api",
            "fingerprint": "a" * 16,
            "level": 7,
            "count": 3,
            "message": "worst",
            "trace_id": "t" * 32,
            "ts": T,
        },
        {
            "service": "web",
            "fingerprint": "b" * 16,
            "level": 5,
            "count": 1,
            "message": "boom",
            "trace_id": None,
            "ts": T,
        },
    ]


def test_a_critical_record_alerts_once_per_dedup_interval(gate: GateCore) -> None:
    groups = summarise([row(6)])
    assert [a["kind"] for a in gate.decide(groups, T, POLICY)] == ["critical"]
    assert gate.decide(groups, T + 60_000, POLICY) == []
    assert gate.decide(summarise([row(6, "web")]), T + 60_000, POLICY)[0]["service"] == "web"
    assert [a["kind"] for a in gate.decide(groups, T + 31 * 60_000, POLICY)] == ["critical"]


def test_errors_alert_when_a_service_bursts_within_the_window(gate: GateCore) -> None:
    assert gate.decide(summarise([row(5)] * 3), T, POLICY) == []
    assert gate.decide(summarise([row(5, "web")] * 4), T, POLICY) == []  # other service
    (burst,) = gate.decide(summarise([row(5)] * 2), T + 60_000, POLICY)
    assert (burst["kind"], burst["service"], burst["count"]) == ("burst", "api", 5)
    assert gate.decide(summarise([row(5)] * 10), T + 120_000, POLICY) == []  # deduplicated


def test_errors_outside_the_window_do_not_count(gate: GateCore) -> None:
    gate.decide(summarise([row(5)] * 4), T, POLICY)
    assert gate.decide(summarise([row(5)] * 4), T + 6 * 60_000, POLICY) == []
