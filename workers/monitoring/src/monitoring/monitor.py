"""One monitor: the logic of the `Monitor` Durable Object (one object per check).

It owns the check's schedule (an alarm at the exact due time), its state, every result, and
the incidents and alerts its state changes cause. After each run it reports to the registry
(the board the status page, health and summary read), re-sending anything the registry has
not yet acknowledged, and it delivers alerts through an outbox so a failed delivery is retried
on the next run instead of lost.
"""

from __future__ import annotations

import logging
from typing import Any

from monitoring import alerts, maintenance, probes, targets
from monitoring.cadence import Cadence
from monitoring.probes import ProbeContext
from monitoring.results import Results
from monitoring.state import (
    Change,
    ChangeKind,
    MonitorState,
    Outcome,
    Status,
    pause,
    plan_alerts,
    resume,
    step,
)
from monitoring.store import Documents
from obs_schema import alertsink, host
from obs_schema.models.alert import AlertEvent
from obs_schema.timespec import format_rfc3339

log = logging.getLogger("monitoring.monitor")
MAX_OUTBOX = 100
HEARTBEAT = "heartbeat"


class MonitorCore:
    def __init__(self, storage: Any, env: Any) -> None:
        self.storage = storage
        self.env = env
        self.docs = Documents(storage.sql)
        self.results = Results(storage.sql)

    # --- stored documents -------------------------------------------------------------------
    @property
    def spec(self) -> dict[str, Any] | None:
        spec: dict[str, Any] | None = self.docs.get("spec")
        return spec

    def _meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = self.docs.get("meta") or {}
        return meta

    def _state(self) -> MonitorState:
        return MonitorState.from_dict(self.docs.get("state"))

    def _save(self, state: MonitorState, meta: dict[str, Any]) -> None:
        self.docs.put("state", state.to_dict())
        self.docs.put("meta", meta)

    # --- configuration ----------------------------------------------------------------------
    async def configure(self, spec: dict[str, Any], created_ms: int) -> dict[str, Any]:
        """Install (or replace) the check's spec and (re)schedule it."""
        now = host.now_ms()
        old, meta, state = self.spec, self._meta(), self._state()
        meta.setdefault("created_ms", created_ms)
        self.docs.put("spec", spec)
        changes: list[Change] = []
        if not spec.get("enabled", True):
            if state.status is not Status.PAUSED:
                state, changes = pause(state, now)
            await self.storage.deleteAlarm()
            meta["next_due_ms"] = None
        elif old is None or _reschedule(old, spec) or state.status is Status.PAUSED:
            state = resume(state, now) if state.status is Status.PAUSED else state
            meta["anchor_ms"] = now
            due = Cadence.from_spec(spec).heartbeat_deadline(now) if _beats(spec) else now
            await self._arm(meta, due)
        await self._settle(spec, state, meta, changes, now)
        return self.status()

    async def destroy(self) -> None:
        await self.storage.deleteAlarm()
        await self.storage.deleteAll()

    async def ensure(self) -> bool:
        """Re-arm a monitor whose alarm went missing; True when it had to."""
        spec, meta = self.spec, self._meta()
        if spec is None or not spec.get("enabled", True) or meta.get("next_due_ms") is None:
            return False
        if await self.storage.getAlarm() is not None:
            return False
        await self._arm(meta, max(int(meta["next_due_ms"]), host.now_ms()))
        self.docs.put("meta", meta)
        return True

    async def _arm(self, meta: dict[str, Any], due: int) -> None:
        meta["next_due_ms"] = due
        await self.storage.setAlarm(due)

    # --- runs -------------------------------------------------------------------------------
    async def alarm(self) -> None:
        spec = self.spec
        if spec is None or not spec.get("enabled", True):
            return
        if _beats(spec):
            await self._heartbeat_missed(spec)
        else:
            await self.run(spec)

    async def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Probe the target now, record the result and schedule the next attempt."""
        now, meta, cadence = host.now_ms(), self._meta(), Cadence.from_spec(spec)
        due = int(meta.get("next_due_ms") or now)
        context = ProbeContext(
            env=self.env,
            check_id=str(spec["id"]),
            timeout_s=cadence.timeout_ms / 1000,
            allow_private=targets.allowed_by(self.env),
        )
        outcome = await probes.run(spec, context)
        state, meta = self._state(), self._meta()  # re-read: a beat may have landed meanwhile
        new, changes = step(
            state,
            outcome,
            now,
            confirmations=cadence.confirmations,
            degraded_latency_ms=spec.get("degraded_latency_ms"),
        )
        self.results.add(now, outcome, attempt=state.failures + 1, lag_ms=max(0, now - due))
        await self._arm(meta, cadence.after(new, int(meta.get("anchor_ms", now)), now))
        await self._settle(spec, new, meta, changes, now)
        return self.results.latest() or {}

    async def beat(self, status: str, message: str | None, ping_ms: float | None) -> dict[str, Any]:
        """A heartbeat arrived (`status` "up" or "down", as the job reports it)."""
        spec = self.spec
        if spec is None or not spec.get("enabled", True):
            return {"accepted": False, "status": Status.PAUSED.value}
        now, meta, cadence = host.now_ms(), self._meta(), Cadence.from_spec(spec)
        failed = status == "down"
        error = (message or "the job reported a failure") if failed else None
        outcome = Outcome(ok=not failed, latency_ms=ping_ms, error=error)
        state = self._state()
        new, changes = step(state, outcome, now, confirmations=1)
        self.results.add(now, outcome, attempt=1, lag_ms=0)
        await self._arm(meta, cadence.heartbeat_deadline(now))
        await self._settle(spec, new, meta, changes, now, cause="job_failed" if failed else None)
        return {"accepted": True, "status": new.status.value}

    async def _heartbeat_missed(self, spec: dict[str, Any]) -> None:
        now, meta, state = host.now_ms(), self._meta(), self._state()
        since = state.last_good_ms or meta.get("created_ms")
        error = f"no heartbeat since {_rfc3339(since)}" if since else "no heartbeat yet"
        outcome = Outcome(ok=False, error=error)
        new, changes = step(state, outcome, now, confirmations=1)
        self.results.add(now, outcome, attempt=state.failures + 1, lag_ms=0)
        meta["next_due_ms"] = None  # nothing to do until the next beat
        await self._settle(spec, new, meta, changes, now)

    # --- after every state update -----------------------------------------------------------
    async def _settle(
        self,
        spec: dict[str, Any],
        state: MonitorState,
        meta: dict[str, Any],
        changes: list[Change],
        now: int,
        cause: str | None = None,
    ) -> None:
        windows = maintenance.parse_all(spec.get("maintenance"))
        in_maintenance = maintenance.active(windows, now) is not None
        # An outage's alerts (raised, late, resolved) all carry the cause it started with.
        prior: dict[str, Any] | None = self.docs.get("incident")
        cause = (prior or {}).get("cause") or cause or _default_cause(spec)
        self._track_incidents(spec, changes, cause)
        state, send = plan_alerts(state, changes, in_maintenance, now)
        outbox = (self.docs.get("outbox") or []) + [alerts.build(spec, c, cause) for c in send]
        self.docs.put("outbox", outbox[-MAX_OUTBOX:])
        meta["in_maintenance"] = in_maintenance
        self._save(state, meta)
        await self._flush_outbox()
        await self._report(spec, state, meta)

    def _track_incidents(self, spec: dict[str, Any], changes: list[Change], cause: str) -> None:
        pending: dict[str, dict[str, Any]] = self.docs.get("unsynced") or {}
        open_incident: dict[str, Any] | None = self.docs.get("incident")
        for change in changes:
            if change.kind is ChangeKind.DOWN:
                started = int(change.incident_start_ms or change.at_ms)
                open_incident = {
                    "id": f"{spec['id']}:{started}",
                    "check_id": spec["id"],
                    "started_ms": started,
                    "ended_ms": None,
                    "first_error": change.error,
                    "cause": cause,
                }
            elif change.kind is ChangeKind.RECOVERED and open_incident is not None:
                open_incident = {**open_incident, "ended_ms": change.at_ms}
            else:
                continue
            pending[open_incident["id"]] = open_incident
        if open_incident is not None and open_incident["ended_ms"] is not None:
            open_incident = None
        self.docs.put("incident", open_incident)
        self.docs.put("unsynced", pending)

    async def _flush_outbox(self) -> None:
        outbox = self.docs.get("outbox") or []
        if not outbox:
            return
        events = [AlertEvent.model_validate(item) for item in outbox]
        if await alertsink.send_alerts(self.env, events):
            self.docs.put("outbox", [])

    async def _report(
        self, spec: dict[str, Any], state: MonitorState, meta: dict[str, Any]
    ) -> None:
        pending = self.docs.get("unsynced") or {}
        report = {**self._board(state, meta), "incidents": list(pending.values())}
        try:
            registry = self.env.REGISTRY.getByName("registry")
            await registry.report(spec["id"], report)
        except Exception:
            # The registry catches up on the next run: incidents stay in the unsynced set.
            log.warning("could not report %s to the registry", spec["id"], exc_info=True)
            return
        self.docs.put("unsynced", {})

    async def run_now(self) -> dict[str, Any]:
        spec = self.spec
        if spec is None or _beats(spec):
            return {}
        return await self.run(spec)

    # --- reads ------------------------------------------------------------------------------
    def results_page(
        self, since: int, until: int, limit: int, before: int | None
    ) -> dict[str, Any]:
        return self.results.page(since, until, limit, before)

    def latency(self, since: int, until: int) -> dict[str, Any]:
        return self.results.latency(since, until)

    def _board(self, state: MonitorState, meta: dict[str, Any]) -> dict[str, Any]:
        return {
            "status": state.status.value,
            "since_ms": state.since_ms,
            "last_checked_ms": state.last_checked_ms,
            "last_latency_ms": state.last_latency_ms,
            "last_error": state.last_error if state.failures else None,
            "last_good_ms": state.last_good_ms,
            "failures": state.failures,
            "next_due_ms": meta.get("next_due_ms"),
            "in_maintenance": bool(meta.get("in_maintenance")),
            "pending_alerts": len(self.docs.get("outbox") or []),
        }

    def status(self) -> dict[str, Any]:
        return self._board(self._state(), self._meta())


def _default_cause(spec: dict[str, Any]) -> str:
    return "heartbeat_missed" if _beats(spec) else "down"


def _beats(spec: dict[str, Any]) -> bool:
    return spec.get("type") == HEARTBEAT


def _reschedule(old: dict[str, Any], new: dict[str, Any]) -> bool:
    keys = ("type", "interval", "grace", "enabled")
    return any(old.get(k) != new.get(k) for k in keys)


def _rfc3339(ms: int) -> str:
    return format_rfc3339(ms / 1000)
