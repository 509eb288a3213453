"""Rule cycles over snapshots: pending -> firing with `for`, rates, absence, missing data."""

from __future__ import annotations

from typing import Any

from alerting.evaluation import Instance, Outcome, evaluate, lookup
from alerting.rules import Rule

MIN = 60_000
ALL = {"apm", "logs", "alerting"}


def snap(**by_service: float | None) -> dict[str, Any]:
    return {
        "apm": {
            "by_service_5m": {s: {"error_rate": v} for s, v in by_service.items()},
            "requests_5m": 10,
        }
    }


RATE = Rule(
    "ErrorRate",
    "threshold",
    "apm.by_service_5m.*.error_rate",
    threshold=0.05,
    for_ms=2 * MIN,
    severity="critical",
)


def run(rule: Rule, snapshots: list[dict[str, Any]], available: set[str] = ALL) -> list[Outcome]:
    states: dict[str, Instance] = {}
    outcomes = []
    for minute, snapshot in enumerate(snapshots):
        outcome = evaluate(rule, snapshot, available, states, minute * MIN, lambda _m, _t: None)
        states = outcome.states
        outcomes.append(outcome)
    return outcomes


def statuses(outcome: Outcome) -> list[tuple[str, str]]:
    return sorted((e["labels"].get("service", ""), e["status"]) for e in outcome.events)


def test_lookup_expands_one_star_and_skips_what_is_missing() -> None:
    snapshot = {
        "apm": {"by_service_5m": {"api": {"p95_ms": 120}, "web": {"p95_ms": None}, "db": {}}}
    }
    assert lookup(snapshot, ("apm", "by_service_5m", "*", "p95_ms")) == {"api": 120.0, "web": None}
    assert lookup(snapshot, ("apm", "nothing")) == {}


def test_a_breach_is_pending_for_its_for_then_fires_per_service_then_resolves() -> None:
    outcomes = run(
        RATE,
        [
            snap(api=0.1, web=0.01),
            snap(api=0.2, web=0.01),
            snap(api=0.2, web=0.2),
            snap(api=0.01, web=0.2),
        ],
    )
    assert [statuses(o) for o in outcomes] == [[], [], [("api", "firing")], [("api", "resolved")]]
    assert outcomes[2].states["api"] == Instance("firing", 2 * MIN, 0.2)
    assert outcomes[3].states["web"].state == "pending"
    fired = outcomes[2].events[0]
    assert fired == {
        "name": "ErrorRate",
        "severity": "critical",
        "labels": {"service": "api"},
        "annotations": {"summary": "apm.by_service_5m.api.error_rate = 0.2 > 0.05"},
        "source": "rules",
        "status": "firing",
        "starts_at": "1970-01-01T00:02:00.000Z",
    }


def test_a_worker_that_does_not_answer_is_not_a_recovery() -> None:
    states = run(RATE, [snap(api=0.1)] * 3)[-1].states
    outage = evaluate(RATE, {}, {"alerting"}, states, 3 * MIN, lambda _m, _t: None)
    assert (outage.events, outage.states) == ([], states)
    gone = evaluate(RATE, snap(), ALL, states, 4 * MIN, lambda _m, _t: None)
    assert statuses(gone) == [("api", "resolved")]  # the key disappeared: resolved, as Prometheus


def test_rate_of_change_compares_with_the_value_a_window_ago() -> None:
    rule = Rule("Jump", "rate_of_change", "logs.errors_5m", threshold=1.0, window_ms=10 * MIN)
    history = {("logs.errors_5m", 0): 10.0}
    outcome = evaluate(
        rule, {"logs": {"errors_5m": 25}}, ALL, {}, 10 * MIN, lambda m, t: history.get((m, t))
    )
    assert [(e["status"], e["annotations"]["summary"]) for e in outcome.events] == [
        ("firing", "logs.errors_5m changed by 1.5 (relative) > 1")
    ]
    assert outcome.samples == {"logs.errors_5m": 25.0}
    no_history = evaluate(rule, {"logs": {"errors_5m": 25}}, ALL, {}, 10 * MIN, lambda m, t: None)
    assert (no_history.events, no_history.states) == ([], {})


def test_absence_fires_after_its_for_and_resolves_when_data_returns() -> None:
    rule = Rule("NoTraffic", "absence", "apm.requests_5m", for_ms=2 * MIN)
    outcomes = run(
        rule,
        [{"apm": {"requests_5m": 5}}, {}, {}, {}, {"apm": {"requests_5m": 1}}],
        available={"alerting"} | {"apm"},
    )
    assert [[e["status"] for e in o.events] for o in outcomes] == [
        [],
        [],
        [],
        ["firing"],
        ["resolved"],
    ]
    never = run(rule, [{}, {}, {}], available=set())
    assert [e["status"] for e in never[-1].events] == ["firing"]


def test_a_disabled_rule_resolves_what_it_had_firing() -> None:
    states = run(RATE, [snap(api=0.1)] * 3)[-1].states
    disabled = Rule(**{**RATE.__dict__, "enabled": False})
    outcome = evaluate(disabled, snap(api=0.1), ALL, states, 4 * MIN, lambda _m, _t: None)
    assert statuses(outcome) == [("api", "resolved")] and outcome.states == {}
