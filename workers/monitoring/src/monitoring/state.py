"""What a monitor believes about its target, and how one more result changes that belief.

Rules (the issue's confirmation rule):
- a target goes *down* only after `confirmations` consecutive failed attempts; the incident then
  starts at the *first* failed attempt, so its duration is the real outage;
- one success ends the outage (*recovered*); a success slower than the degraded threshold, or a
  target reporting itself degraded, makes it *degraded* (a warning, not an incident);
- alerts are planned separately (`plan_alerts`): maintenance suppresses new alerts, and an
  outage that outlives its maintenance window is announced when the window ends.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PENDING = "pending"  # created, no result yet
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    PAUSED = "paused"


class ChangeKind(StrEnum):
    DOWN = "down"
    RECOVERED = "recovered"
    DEGRADED = "degraded"
    DEGRADED_RESOLVED = "degraded_resolved"


@dataclass(frozen=True)
class Outcome:
    """One attempt's result, as a probe reports it."""

    ok: bool
    latency_ms: float | None = None
    error: str | None = None
    status_code: int | None = None
    degraded: bool = False  # the target answered but says it is degraded
    detail: str | None = None


@dataclass(frozen=True)
class Change:
    """A state change worth telling someone about."""

    kind: ChangeKind
    at_ms: int
    incident_start_ms: int | None
    error: str | None
    latency_ms: float | None
    last_good_ms: int | None


@dataclass
class MonitorState:
    status: Status = Status.PENDING
    since_ms: int | None = None
    failures: int = 0  # consecutive failed attempts
    first_failure_ms: int | None = None
    first_error: str | None = None
    last_error: str | None = None
    last_checked_ms: int | None = None
    last_latency_ms: float | None = None
    last_good_ms: int | None = None
    incident_ms: int | None = None  # start of the open incident
    alerted_down: bool = False  # a firing "down" alert is outstanding
    alerted_degraded: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> MonitorState:
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        state = cls(**{k: v for k, v in data.items() if k in known})
        state.status = Status(state.status)
        return state


def _change(state: MonitorState, kind: ChangeKind, at: int, outcome: Outcome | None) -> Change:
    # Outages carry the error that started them; degradations what the target answered.
    error = state.first_error
    if kind is ChangeKind.DEGRADED and outcome is not None:
        error = outcome.detail
    # When the problem began: the outage's first failure, or when the slowness started.
    began = state.incident_ms
    if kind is ChangeKind.DEGRADED:
        began = at
    elif kind is ChangeKind.DEGRADED_RESOLVED:
        began = state.since_ms
    return Change(
        kind=kind,
        at_ms=at,
        incident_start_ms=began,
        error=error,
        latency_ms=None if outcome is None else outcome.latency_ms,
        last_good_ms=state.last_good_ms,
    )


def step(
    state: MonitorState,
    outcome: Outcome,
    at: int,
    *,
    confirmations: int,
    degraded_latency_ms: float | None = None,
) -> tuple[MonitorState, list[Change]]:
    """The state after `outcome` at `at` (ms), and the changes it caused."""
    new = replace(state, last_checked_ms=at, last_latency_ms=outcome.latency_ms)
    if outcome.ok:
        return _succeeded(new, outcome, at, degraded_latency_ms)
    return _failed(new, outcome, at, confirmations)


def _succeeded(
    state: MonitorState, outcome: Outcome, at: int, threshold: float | None
) -> tuple[MonitorState, list[Change]]:
    changes: list[Change] = []
    slow = threshold is not None and (outcome.latency_ms or 0.0) > threshold
    status = Status.DEGRADED if slow or outcome.degraded else Status.UP
    if state.status is Status.DOWN:
        changes.append(_change(state, ChangeKind.RECOVERED, at, outcome))
    if status is Status.DEGRADED and state.status is not Status.DEGRADED:
        changes.append(_change(state, ChangeKind.DEGRADED, at, outcome))
    if state.status is Status.DEGRADED and status is not Status.DEGRADED:
        changes.append(_change(state, ChangeKind.DEGRADED_RESOLVED, at, outcome))
    new = replace(
        state,
        status=status,
        since_ms=at if status is not state.status else state.since_ms,
        failures=0,
        first_failure_ms=None,
        first_error=None,
        last_good_ms=at,
        incident_ms=None,
    )
    return new, changes


def _failed(
    state: MonitorState, outcome: Outcome, at: int, confirmations: int
) -> tuple[MonitorState, list[Change]]:
    first = state.failures == 0
    new = replace(
        state,
        failures=state.failures + 1,
        first_failure_ms=at if first else state.first_failure_ms,
        first_error=outcome.error if first else state.first_error,
        last_error=outcome.error,
    )
    if new.failures < confirmations or state.status is Status.DOWN:
        return new, []
    changes: list[Change] = []
    if state.status is Status.DEGRADED:
        changes.append(_change(new, ChangeKind.DEGRADED_RESOLVED, at, outcome))
    new = replace(new, status=Status.DOWN, since_ms=new.first_failure_ms)
    new.incident_ms = new.first_failure_ms
    changes.append(_change(new, ChangeKind.DOWN, at, outcome))
    return new, changes


def pause(state: MonitorState, at: int) -> tuple[MonitorState, list[Change]]:
    """Stop monitoring: an open outage ends now (nobody is watching any more)."""
    changes = []
    if state.status is Status.DOWN:
        changes.append(_change(state, ChangeKind.RECOVERED, at, None))
    if state.status is Status.DEGRADED:
        changes.append(_change(state, ChangeKind.DEGRADED_RESOLVED, at, None))
    return replace(state, status=Status.PAUSED, since_ms=at, failures=0, incident_ms=None), changes


def resume(state: MonitorState, at: int) -> MonitorState:
    return replace(state, status=Status.PENDING, since_ms=at, failures=0, first_failure_ms=None)


_RAISES = {ChangeKind.DOWN: "alerted_down", ChangeKind.DEGRADED: "alerted_degraded"}
_RESOLVES = {ChangeKind.RECOVERED: "alerted_down", ChangeKind.DEGRADED_RESOLVED: "alerted_degraded"}


def plan_alerts(
    state: MonitorState, changes: list[Change], in_maintenance: bool, at: int
) -> tuple[MonitorState, list[Change]]:
    """Which changes to send: new problems unless in maintenance, resolutions only of alerts
    that were sent, and problems whose alert maintenance held back once it is over."""
    new, send = replace(state), []
    for change in changes:
        if change.kind in _RAISES and not in_maintenance:
            setattr(new, _RAISES[change.kind], True)
            send.append(change)
        elif change.kind in _RESOLVES and getattr(new, _RESOLVES[change.kind]):
            setattr(new, _RESOLVES[change.kind], False)
            send.append(change)
    if not in_maintenance:
        send.extend(_held_back(new, at))
    return new, send


def _held_back(state: MonitorState, at: int) -> list[Change]:
    late: list[Change] = []
    if state.status is Status.DOWN and not state.alerted_down:
        state.alerted_down = True
        late.append(_change(state, ChangeKind.DOWN, at, None))
    if state.status is Status.DEGRADED and not state.alerted_degraded:
        state.alerted_degraded = True
        late.append(_change(state, ChangeKind.DEGRADED, at, None))
    return late
