"""Inhibition as Alertmanager applies it (inhibit/inhibit_test.go, as a table)."""

from __future__ import annotations

import pytest

from alerting import matchers as m
from alerting.inhibition import Candidate, Inhibitor, InhibitRule

RULE = InhibitRule(
    "critical-mutes-warning",
    source=(m.parse('severity="critical"'),),
    target=(m.parse('severity="warning"'),),
    equal=("service",),
)


@pytest.mark.parametrize(
    ("firing", "target", "inhibited_by"),
    [
        (
            [("c1", {"severity": "critical", "service": "api"})],
            {"severity": "warning", "service": "api"},
            "c1",
        ),
        (
            [("c1", {"severity": "critical", "service": "web"})],
            {"severity": "warning", "service": "api"},
            None,
        ),
        ([("c1", {"severity": "critical"})], {"severity": "warning"}, "c1"),  # both lack `service`
        (
            [("c1", {"severity": "critical", "service": ""})],
            {"severity": "warning"},
            "c1",
        ),  # "" == absent
        (
            [("c1", {"severity": "critical", "service": "api"})],
            {"severity": "critical", "service": "api"},
            None,
        ),
        ([], {"severity": "warning", "service": "api"}, None),
    ],
)
def test_a_firing_source_mutes_targets_with_equal_labels(
    firing: list[tuple[str, dict[str, str]]], target: dict[str, str], inhibited_by: str | None
) -> None:
    inhibitor = Inhibitor([RULE], [Candidate(fp, labels) for fp, labels in firing])
    assert inhibitor.inhibited_by("t", target) == inhibited_by


def test_alerts_matching_both_sides_do_not_inhibit_each_other() -> None:
    both = InhibitRule("both", (m.parse('team="x"'),), (m.parse('team="x"'),), ())
    firing = [Candidate("a", {"team": "x"}), Candidate("b", {"team": "x"})]
    inhibitor = Inhibitor([both], firing)
    assert inhibitor.inhibited_by("a", {"team": "x"}) is None
    # ... but a source that matches only the source side still does.
    one_sided = InhibitRule("one", (m.parse('team="x"'),), (m.parse('kind="t"'),), ())
    inhibitor = Inhibitor([one_sided], [Candidate("s", {"team": "x"})])
    assert inhibitor.inhibited_by("t", {"team": "x", "kind": "t"}) == "s"
