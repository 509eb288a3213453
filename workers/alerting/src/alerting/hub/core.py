"""The alerting Durable Object's logic: every operation, and the alarm that drives time.

All alert state is in this one object, so deduplication, grouping and the lifecycle are
strongly consistent (DESIGN §5). Time-driven work (group flushes, escalation levels, delivery
retries, `endsAt` expiry) is a set of due times in the tables; the object's single alarm is
always set to the earliest of them, so each fires at its exact instant and survives restarts.
Operations are called through `call(op, args)` with plain dicts, and answer plain dicts; a
client error comes back as `{"error": {"status", "message", "details"}}`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from alerting.hub.base import HubError
from alerting.hub.configuring import Configuring
from alerting.problems import Invalid
from obs_schema import host


class HubCore(Configuring):
    """The Durable Object's logic: `call` for operations, `alarm` for time."""

    # --- entry points -----------------------------------------------------------------------
    async def call(self, op: str, args: dict[str, Any]) -> Any:
        handler = OPERATIONS.get(op)
        if handler is None:
            return {"error": {"status": 404, "message": f"unknown operation {op!r}", "details": []}}
        try:
            result = handler(self, **args)
            if isinstance(result, Awaitable):
                result = await result
        except HubError as error:
            return {
                "error": {
                    "status": error.status,
                    "message": error.message,
                    "details": error.details,
                }
            }
        except Invalid as invalid:
            return {"error": {"status": 422, "message": str(invalid), "details": invalid.details}}
        await self.arm()
        return result

    async def alarm(self) -> None:
        await self.tick(host.now_ms())
        await self.arm()

    async def tick(self, now_ms: int) -> None:
        for alert in self.alerts.expired(now_ms):
            self._resolve(alert, alert.expires_ms or now_ms, "expiry (endsAt passed)", now_ms)
        dispatcher, escalations, courier = self.parts()
        muting = self.muting(now_ms)
        dispatcher.flush_due(muting, now_ms)
        escalations.fire_due(muting, now_ms)
        await courier.deliver(now_ms)

    async def arm(self) -> None:
        """Point the alarm at the earliest due work (or clear it)."""
        dispatcher, escalations, _ = self.parts()
        # Through the expiry index (`+status` keeps the planner off the status index, which
        # would visit every active alert: log alerts stay firing until someone resolves them).
        expiry = self.db.value(
            "SELECT expires_ms FROM alerts WHERE expires_ms IS NOT NULL "
            "AND +status IN ('firing', 'acknowledged') ORDER BY expires_ms LIMIT 1"
        )
        candidates = [dispatcher.next_due(), escalations.next_due(), self.outbox.next_due(), expiry]
        due = [int(c) for c in candidates if c is not None]
        want = max(min(due), host.now_ms()) if due else None
        if await self.storage.getAlarm() != want:
            if want is None:
                await self.storage.deleteAlarm()
            else:
                await self.storage.setAlarm(want)


OPERATIONS: dict[str, Callable[..., Any]] = {
    "ingest": HubCore.ingest,
    "acknowledge": HubCore.acknowledge,
    "resolve": HubCore.resolve,
    "follow_link": HubCore.follow_link,
    "list_alerts": HubCore.list_alerts,
    "get_alert": HubCore.get_alert,
    "notifications": HubCore.notifications,
    "groups": HubCore.groups,
    "snapshot": HubCore.snapshot,
    "stats": HubCore.stats,
    "list_silences": HubCore.list_silences,
    "get_silence": HubCore.get_silence,
    "put_silence": HubCore.put_silence,
    "expire_silence": HubCore.expire_silence,
    "get_config": HubCore.get_config,
    "put_config": HubCore.put_config,
    "get_rules": HubCore.get_rules,
    "put_rules": HubCore.put_rules,
    "evaluate": HubCore.evaluate,
    "oncall": HubCore.oncall,
    "list_incidents": HubCore.list_incidents,
    "get_incident": HubCore.get_incident,
    "add_note": HubCore.add_note,
    "incident_services": HubCore.incident_services,
    "set_impacts": HubCore.set_impacts,
}
