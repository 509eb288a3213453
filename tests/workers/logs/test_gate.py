"""Alert decisions: critical records and error bursts, each once per service and fingerprint."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import pytest

from localedge.storage import DurableObjectStorage
from logs.gate import GateCore, alerts_of, ask, merge, summarise

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


class Gate:
    """The gate as ingest uses it: summary in, alerts out."""

    def __init__(self, core: GateCore) -> None:
        self.core = core

    def decide(
        self, groups: list[dict[str, Any]], now_ms: int, policy: dict[str, int]
    ) -> list[dict[str, Any]]:
        return alerts_of(groups, self.core.decide(ask(groups), now_ms, policy))


@pytest.fixture
def gate(storage: DurableObjectStorage) -> Gate:
    return Gate(GateCore(storage.sql))


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


def test_merged_summaries_are_the_summary_of_both_batches() -> None:
    rng = random.Random(5)
    for _ in range(200):
        rows = [
            row(
                rng.choice([2, 5, 5, 6, 7]),
                rng.choice(["api", "web"]),
                rng.choice(["a", "b", "c"]) * 16,
                f"m{index}",
            )
            for index in range(rng.randint(0, 12))
        ]
        cut = rng.randint(0, len(rows))
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        merge(merged, summarise(rows[:cut]))
        merge(merged, summarise(rows[cut:]))
        whole = {(g["service"], g["fingerprint"]): g for g in summarise(rows)}
        assert merged == whole


def test_a_critical_record_alerts_once_per_dedup_interval(gate: Gate) -> None:
    groups = summarise([row(6)])
    assert [a["kind"] for a in gate.decide(groups, T, POLICY)] == ["critical"]
    assert gate.decide(groups, T + 60_000, POLICY) == []
    assert gate.decide(summarise([row(6, "web")]), T + 60_000, POLICY)[0]["service"] == "web"
    assert [a["kind"] for a in gate.decide(groups, T + 31 * 60_000, POLICY)] == ["critical"]


def test_errors_alert_when_a_service_bursts_within_the_window(gate: Gate) -> None:
    assert gate.decide(summarise([row(5)] * 3), T, POLICY) == []
    assert gate.decide(summarise([row(5, "web")] * 4), T, POLICY) == []  # other service
    (burst,) = gate.decide(summarise([row(5)] * 2), T + 60_000, POLICY)
    assert (burst["kind"], burst["service"], burst["count"]) == ("burst", "api", 5)
    assert gate.decide(summarise([row(5)] * 10), T + 120_000, POLICY) == []  # deduplicated


def test_errors_outside_the_window_do_not_count(gate: Gate) -> None:
    gate.decide(summarise([row(5)] * 4), T, POLICY)
    assert gate.decide(summarise([row(5)] * 4), T + 6 * 60_000, POLICY) == []


def test_a_burst_names_the_most_frequent_fingerprint_and_the_window_total(gate: Gate) -> None:
    rows = [row(5, fp="b" * 16)] * 3 + [row(5, fp="c" * 16)] * 3 + [row(6, fp="d" * 16)]
    alerts = gate.decide(summarise(rows), T, POLICY)
    # Criticals come first; of equally frequent fingerprints the first seen names the burst.
    assert [(a["kind"], a["fingerprint"], a["count"]) for a in alerts] == [
        ("critical", "d" * 16, 1),
        ("burst", "b" * 16, 7),
    ]


def test_the_gate_is_asked_only_what_it_decides_on() -> None:
    groups = summarise([row(5, fp="b" * 16), row(6), row(5), row(5, "web", "c" * 16)])
    assert ask(groups) == {
        "critical": [["api", "a" * 16]],
        "services": [["api", 3, "a" * 16], ["web", 1, "c" * 16]],
    }


class Reference:
    """The gate's rules stated plainly, a query or two per group (as it first was written)."""

    def __init__(self) -> None:
        self.errors: dict[tuple[str, int], int] = defaultdict(int)
        self.fired: dict[str, int] = {}

    def decide(
        self, groups: list[dict[str, Any]], now_ms: int, policy: dict[str, int]
    ) -> list[dict[str, Any]]:
        alerts = [
            {**group, "kind": "critical"}
            for group in groups
            if group["level"] >= 6 and self._first(group, "critical", now_ms, policy)
        ]
        per_service: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for group in groups:
            per_service[group["service"]].append(group)
        window_start = (now_ms - policy["window_ms"]) // 60000
        for service, mine in per_service.items():
            self.errors[(service, now_ms // 60000)] += sum(group["count"] for group in mine)
            total = sum(n for (s, m), n in self.errors.items() if s == service and m > window_start)
            top = max(mine, key=lambda group: group["count"])
            if total >= policy["threshold"] and self._first(top, "burst", now_ms, policy):
                alerts.append({**top, "kind": "burst", "count": total})
        self.errors = defaultdict(
            int, {k: n for k, n in self.errors.items() if k[1] > window_start}
        )
        self.fired = {k: until for k, until in self.fired.items() if until > now_ms}
        return alerts

    def _first(self, group: dict[str, Any], kind: str, now_ms: int, policy: dict[str, int]) -> bool:
        key = f"{kind}\x1f{group['service']}\x1f{group['fingerprint']}"
        if self.fired.get(key, 0) > now_ms:
            return False
        self.fired[key] = now_ms + policy["dedup_ms"]
        return True


def test_decisions_match_the_rules_over_a_long_random_run(gate: Gate) -> None:
    rng = random.Random(7)
    reference = Reference()
    policy = {"threshold": 12, "window_ms": 3 * 60_000, "dedup_ms": 7 * 60_000}
    now, fired = T, 0
    for _ in range(300):
        now += rng.choice([0, 1_000, 20_000, 61_000])
        rows = [
            row(
                rng.choice([2, 5, 5, 5, 6, 7]),
                rng.choice(["api", "web", "auth"]),
                rng.choice("abcdef") * 16,
                message=f"m{rng.randint(0, 9)}",
                ts=now - rng.randint(0, 5_000),
            )
            for _ in range(rng.randint(0, 12))
        ]
        groups = summarise(rows)
        expected = reference.decide(groups, now, policy) if groups else []
        assert (gate.decide(groups, now, policy) if groups else []) == expected
        fired += len(expected)
    assert fired > 100  # the run exercises firing and deduplication, not only silence
