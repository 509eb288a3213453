"""Escalation policies: parsing, and the order and timing of their steps."""

from __future__ import annotations

import pytest

from alerting.escalation import Level, Policy, Step, Target, parse_policies, parse_target
from alerting.problems import Invalid, Problems

POLICY = Policy(
    "critical",
    (
        Level(0, (Target("receiver", "team"),)),
        Level(300_000, (Target("schedule", "primary"),)),
        Level(600_000, (Target("person", "cto"),)),
    ),
    repeat=1,
    repeat_after_ms=1_800_000,
)


def test_levels_follow_each_other_by_their_delays_then_the_policy_repeats_once() -> None:
    steps, step = [], POLICY.first(0)
    fired: Step | None = step
    while fired is not None:
        steps.append((fired.level, fired.cycle, fired.due_ms))
        fired = POLICY.after(fired, fired.due_ms)
    assert steps == [
        (0, 0, 0),
        (1, 0, 300_000),
        (2, 0, 900_000),
        (0, 1, 2_700_000),
        (1, 1, 3_000_000),
        (2, 1, 3_600_000),
    ]


def test_a_policy_document_round_trips() -> None:
    problems = Problems()
    [parsed] = parse_policies([POLICY.to_dict()], problems)
    assert problems.details == [] and parsed == POLICY


@pytest.mark.parametrize(
    ("document", "place"),
    [
        ({"name": "p", "levels": []}, "escalation_policies.0.levels"),
        (
            {"name": "p", "levels": [{"delay": "1x", "targets": [{"receiver": "r"}]}]},
            "escalation_policies.0.levels.0.delay",
        ),
        ({"name": "p", "levels": [{"targets": []}]}, "escalation_policies.0.levels.0.targets"),
        (
            {"name": "p", "levels": [{"targets": [{"team": "r"}]}]},
            "escalation_policies.0.levels.0.targets.0",
        ),
        (
            {"name": "p", "levels": [{"targets": [{"receiver": "r"}]}], "repeat": 99},
            "escalation_policies.0.repeat",
        ),
        ({"levels": [{"targets": [{"receiver": "r"}]}]}, "escalation_policies.0.name"),
    ],
)
def test_bad_policies_name_the_field(document: dict[str, object], place: str) -> None:
    problems = Problems()
    parse_policies([document], problems)
    with pytest.raises(Invalid) as caught:
        problems.raise_if_any()
    assert place in [".".join(d["loc"]) for d in caught.value.details]


def test_a_target_names_exactly_one_kind() -> None:
    assert parse_target({"schedule": "primary"}) == Target("schedule", "primary")
    with pytest.raises(ValueError, match="a target is one of"):
        parse_target({"receiver": "a", "person": "b"})
