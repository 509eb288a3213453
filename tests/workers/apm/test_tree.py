"""The trace tree: depth, offsets, self time, critical path, orphans, clock-skew correction."""

from __future__ import annotations

import json
from typing import Any

from apm.tree import build

MS = 1_000_000


def row(span: str, parent: str, service: str, start: int, end: int, **extra: Any) -> dict[str, Any]:
    return {
        "trace_id": "t" * 32, "span_id": span, "parent_id": parent, "name": f"op-{span}",
        "kind": 2, "service": service, "route": f"/{span}", "start_ns": start * MS,
        "end_ns": end * MS, "status": 0, "error": 0, "attributes": "{}",
        "extra": json.dumps(extra), "resource": "{}",
    }  # fmt: skip


def shape(trace: dict[str, Any], *fields: str) -> list[tuple[Any, ...]]:
    return [tuple(span[f] for f in ("span_id", *fields)) for span in trace["spans"]]


def test_depth_offsets_and_self_time_with_overlapping_children() -> None:
    trace = build(
        [
            row("root", "", "api", 1000, 1100),
            row("b", "root", "api", 1030, 1060),
            row("a", "root", "api", 1010, 1040),
            row("a1", "a", "api", 1015, 1020),
        ],
        None,
    )
    assert shape(trace, "depth", "offset_ms", "duration_ms", "self_time_ms") == [
        ("root", 0, 0.0, 100.0, 50.0),
        ("a", 1, 10.0, 30.0, 25.0),
        ("a1", 2, 15.0, 5.0, 5.0),
        ("b", 1, 30.0, 30.0, 30.0),
    ]
    assert trace["duration_ms"] == 100.0 and trace["span_count"] == 4


def test_the_critical_path_walks_back_from_the_last_finishing_child() -> None:
    trace = build(
        [
            row("root", "", "api", 0, 100),
            row("a", "root", "api", 10, 40),
            row("b", "root", "api", 50, 90),
            row("c", "root", "api", 20, 30),  # hidden behind a: not on the path
        ],
        None,
    )
    assert trace["critical_path"] == ["root", "b", "a"]
    assert shape(trace, "critical_path", "critical_ms") == [
        ("root", True, 30.0),
        ("a", True, 30.0),
        ("c", False, 0.0),
        ("b", True, 40.0),
    ]


def test_orphans_are_kept_as_flagged_roots() -> None:
    trace = build([row("root", "", "api", 0, 10), row("x", "missing", "worker", 2, 4)], None)
    assert trace["orphan_count"] == 1
    assert shape(trace, "depth", "orphan", "parent_span_id") == [
        ("root", 0, False, None),
        ("x", 0, True, "missing"),
    ]


def test_a_skewed_child_service_is_moved_inside_its_parent_with_its_subtree() -> None:
    trace = build(
        [
            row("root", "", "api", 100, 200),
            row(
                "remote",
                "root",
                "billing",
                90,
                130,
                events=[{"name": "e", "time_unix_nano": 95 * MS}],
            ),
            row("inner", "remote", "billing", 95, 105),
            row("local", "root", "api", 190, 210),  # same service, same clock: left alone
        ],
        None,
    )
    assert trace["clock_skew_corrected"] is True
    assert shape(trace, "offset_ms", "clock_skew_ms") == [
        ("root", 0.0, 0.0),
        ("remote", 30.0, 40.0),
        ("inner", 35.0, 40.0),
        ("local", 90.0, 0.0),
    ]
    assert trace["spans"][1]["events"][0]["offset_ms"] == 35.0


def test_a_longer_skewed_child_is_aligned_to_the_parent_start() -> None:
    trace = build([row("root", "", "api", 100, 110), row("c", "root", "db", 50, 80)], None)
    assert shape(trace, "offset_ms", "clock_skew_ms") == [("root", 0.0, 0.0), ("c", 0.0, 50.0)]


def test_deep_traces_and_parent_cycles_are_still_answered() -> None:
    chain = [row("s0", "", "api", 0, 10_000)]
    chain += [row(f"s{i}", f"s{i - 1}", "api", i, 10_000 - i) for i in range(1, 3000)]
    deep = build(chain, None)
    assert deep["spans"][-1]["depth"] == 2999 and len(deep["critical_path"]) == 3000
    looped = build([row("a", "b", "api", 0, 10), row("b", "a", "api", 1, 5)], None)
    assert shape(looped, "depth", "orphan") == [("a", 0, True), ("b", 1, False)]
