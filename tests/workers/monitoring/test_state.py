"""The confirmation rule, recovery, degradation, pausing, and which changes become alerts."""

from __future__ import annotations

from monitoring.state import ChangeKind, MonitorState, Outcome, Status, pause, plan_alerts, step

OK = Outcome(ok=True, latency_ms=40.0)
SLOW = Outcome(ok=True, latency_ms=900.0)
FAIL = Outcome(ok=False, latency_ms=12.0, error="HTTP 503")


def run(outcomes: list[tuple[int, Outcome]], confirmations: int = 2) -> tuple[MonitorState, list]:
    state, changes = MonitorState(), []
    for at, outcome in outcomes:
        state, new = step(state, outcome, at, confirmations=confirmations, degraded_latency_ms=500)
        changes.extend(new)
    return state, changes


def test_one_failure_is_not_an_outage_and_the_streak_resets_on_success() -> None:
    state, changes = run([(0, OK), (60, FAIL), (65, OK)])
    assert (state.status, state.failures, changes) == (Status.UP, 0, [])


def test_confirmed_failures_open_an_outage_at_the_first_failed_attempt() -> None:
    state, changes = run([(0, OK), (60, FAIL), (65, Outcome(False, 3.0, "refused"))])
    assert state.status is Status.DOWN and state.incident_ms == 60 and state.since_ms == 60
    [down] = changes
    assert (down.kind, down.at_ms, down.incident_start_ms) == (ChangeKind.DOWN, 65, 60)
    assert (down.error, down.last_good_ms) == ("HTTP 503", 0)


def test_one_success_recovers_and_keeps_the_outage_facts() -> None:
    state, changes = run([(0, OK), (60, FAIL), (65, FAIL), (120, FAIL), (180, OK)])
    recovered = changes[-1]
    assert (recovered.kind, recovered.at_ms, recovered.incident_start_ms) == (
        ChangeKind.RECOVERED, 180, 60,
    )  # fmt: skip
    assert (state.status, state.incident_ms, state.last_good_ms) == (Status.UP, None, 180)


def test_slow_answers_degrade_and_down_supersedes_degraded() -> None:
    state, changes = run([(0, SLOW), (60, OK), (120, SLOW), (180, FAIL), (185, FAIL)])
    kinds = [c.kind for c in changes]
    assert kinds == [
        ChangeKind.DEGRADED, ChangeKind.DEGRADED_RESOLVED, ChangeKind.DEGRADED,
        ChangeKind.DEGRADED_RESOLVED, ChangeKind.DOWN,
    ]  # fmt: skip
    assert changes[1].incident_start_ms == 0  # degraded since 0 s
    assert state.status is Status.DOWN


def test_a_target_reporting_itself_degraded_is_degraded() -> None:
    _, [change] = run([(0, Outcome(ok=True, latency_ms=5, degraded=True, detail="db slow"))])
    assert (change.kind, change.error) == (ChangeKind.DEGRADED, "db slow")


def test_pausing_ends_an_outage() -> None:
    state, _ = run([(0, FAIL)], confirmations=1)
    paused, [change] = pause(state, 30)
    assert (paused.status, change.kind, change.incident_start_ms) == (
        Status.PAUSED, ChangeKind.RECOVERED, 0,
    )  # fmt: skip


def test_alerts_are_held_in_maintenance_sent_after_it_and_resolved_only_when_sent() -> None:
    state, changes = run([(0, FAIL)], confirmations=1)
    held, sent = plan_alerts(state, changes, in_maintenance=True, at=0)
    assert sent == [] and not held.alerted_down
    later, sent = plan_alerts(held, [], in_maintenance=False, at=300)
    assert [(c.kind, c.at_ms, c.incident_start_ms) for c in sent] == [(ChangeKind.DOWN, 300, 0)]
    assert later.alerted_down
    recovered, changes = step(later, OK, 360, confirmations=1)
    _, sent = plan_alerts(recovered, changes, in_maintenance=True, at=360)
    assert [c.kind for c in sent] == [ChangeKind.RECOVERED]  # resolving is never noise

    quiet, changes = run([(0, FAIL), (60, OK)], confirmations=1)
    _, sent = plan_alerts(quiet, changes, in_maintenance=True, at=60)
    assert sent == []  # nothing was sent, so nothing to resolve


def test_state_round_trips_through_a_dict() -> None:
    state, _ = run([(0, OK), (60, FAIL)])
    assert MonitorState.from_dict(state.to_dict()) == state
    assert MonitorState.from_dict(None) == MonitorState()
