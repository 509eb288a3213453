"""Alertmanager's flush decision (notify.go DedupStage.needsUpdate), as a table."""

from __future__ import annotations

import pytest

from alerting.grouping import Entry, Member, flush, needs_update

HOUR = 3_600_000
NOW = 10 * HOUR


def entry(firing: set[str], resolved: set[str] = frozenset(), at: int = NOW - 60_000) -> Entry:  # type: ignore[assignment]
    return Entry(frozenset(firing), frozenset(resolved), at)


@pytest.mark.parametrize(
    ("last", "firing", "resolved", "acked", "send_resolved", "reason"),
    [
        (None, {"a"}, set(), False, True, "first_notification"),
        (None, set(), {"a"}, False, True, None),  # fired and resolved within group_wait
        (entry({"a"}), {"a", "b"}, set(), False, True, "new_firing_alerts"),
        (entry({"a", "b"}), {"a"}, {"b"}, False, True, "resolved_alerts"),
        (entry({"a", "b"}), {"a"}, {"b"}, False, False, None),
        (entry({"a"}), set(), {"a"}, False, False, "all_resolved"),  # always, as Alertmanager
        (entry(set(), {"a"}), set(), {"a"}, False, True, None),
        (entry({"a"}), {"a"}, set(), False, True, None),
        (entry({"a"}, at=NOW - 4 * HOUR), {"a"}, set(), False, True, "repeat_interval"),
        (entry({"a"}, at=NOW - 4 * HOUR), {"a"}, set(), True, True, None),  # acknowledged
    ],
)
def test_needs_update(
    last: Entry | None,
    firing: set[str],
    resolved: set[str],
    acked: bool,
    send_resolved: bool,
    reason: str | None,
) -> None:
    result = needs_update(
        last,
        frozenset(firing),
        frozenset(resolved),
        all_acknowledged=acked,
        repeat_ms=4 * HOUR,
        now_ms=NOW,
        send_resolved=send_resolved,
    )
    assert result == reason


def test_muted_alerts_are_left_out_and_resolved_ones_leave_the_group() -> None:
    members = [Member("a", True), Member("b", True, muted=True), Member("c", False)]
    decision = flush(members, None, repeat_ms=HOUR, now_ms=NOW)
    assert (decision.reason, decision.firing, decision.resolved, decision.remove) == (
        "first_notification",
        ("a",),
        ("c",),
        ("c",),
    )
