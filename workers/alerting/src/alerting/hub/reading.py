"""Reading operations: alerts, the notification log, groups, silences, on-call, incidents."""

from __future__ import annotations

import uuid
from typing import Any

from alerting.hub.base import HubBase, HubError
from alerting.hub.db import loads
from alerting.silences import parse as parse_silence
from obs_schema import host


class Reading(HubBase):
    # --- reading alerts ---------------------------------------------------------------------
    def list_alerts(
        self, filters: dict[str, Any], limit: int = 100, cursor: str | None = None
    ) -> dict[str, Any]:
        try:
            page, following = self.alerts.page(filters, limit, cursor)
        except ValueError as error:
            raise HubError(400, str(error)) from None
        return {"alerts": self._api(page, self.muting(host.now_ms())), "next_cursor": following}

    def get_alert(self, fingerprint: str) -> dict[str, Any]:
        alert = self.alerts.get(fingerprint)
        if alert is None:
            raise HubError(404, f"no alert {fingerprint!r}")
        [out] = self._api([alert], self.muting(host.now_ms()))
        row = self.db.one("SELECT * FROM escalations WHERE fingerprint = ?", fingerprint)
        out["escalation"] = (
            None
            if row is None
            else {
                "policy": row["policy"],
                "next_level": row["level"] + 1,
                "cycle": row["cycle"],
                "next_at_ms": row["next_ms"],
            }
        )
        return out

    def notifications(self, fingerprint: str) -> dict[str, Any]:
        if self.alerts.get(fingerprint) is None:
            raise HubError(404, f"no alert {fingerprint!r}")
        return {"alert": fingerprint, "notifications": self.outbox.log_for(fingerprint)}

    def groups(self) -> dict[str, Any]:
        dispatcher, _, _ = self.parts()
        return {"groups": dispatcher.groups_api()}

    def snapshot(self) -> dict[str, Any]:
        counts = self.alerts.counts()
        return {
            "firing": counts["firing"],
            "acknowledged": counts["acknowledged"],
            "open_incidents": self.incidents.count_open(),
        }

    def stats(self) -> dict[str, Any]:
        return {
            "alerts": self.alerts.counts(),
            "notifications": self.outbox.counts(),
            "open_incidents": self.incidents.count_open(),
        }

    # --- silences ---------------------------------------------------------------------------
    def list_silences(self, state: str | None = None) -> dict[str, Any]:
        now_ms = host.now_ms()
        found = [s.to_api(now_ms) for s in self.silences.all()]
        return {"silences": [s for s in found if state is None or s["status"]["state"] == state]}

    def get_silence(self, silence_id: str) -> dict[str, Any]:
        silence = self.silences.get(silence_id)
        if silence is None:
            raise HubError(404, f"no silence {silence_id!r}")
        return silence.to_api(host.now_ms())

    def put_silence(self, body: dict[str, Any]) -> dict[str, Any]:
        now_ms = host.now_ms()
        silence_id = body.get("id") or str(uuid.uuid4())
        existing = self.silences.get(str(silence_id)) if body.get("id") else None
        if body.get("id") and (existing is None or existing.state(now_ms) == "expired"):
            raise HubError(404, f"no silence {silence_id!r} to update")
        silence = parse_silence(body, str(silence_id), now_ms)
        self.silences.put(silence, now_ms)
        return {"silenceID": silence.id, "silence": silence.to_api(now_ms)}

    def expire_silence(self, silence_id: str) -> dict[str, Any]:
        silence = self.silences.get(silence_id)
        now_ms = host.now_ms()
        if silence is None:
            raise HubError(404, f"no silence {silence_id!r}")
        if silence.state(now_ms) == "expired":
            raise HubError(409, f"silence {silence_id!r} has already expired")
        expired = silence.expired_at(now_ms)
        self.silences.put(expired, now_ms)
        return expired.to_api(now_ms)

    # --- on-call ------------------------------------------------------------------------------
    def oncall(self, at_ms: int | None = None) -> dict[str, Any]:
        at_ms = host.now_ms() if at_ms is None else at_ms
        out = []
        for schedule in self.config.schedules.values():
            out.append(
                {
                    "schedule": schedule.name,
                    "now": schedule.who(at_ms).to_dict(),
                    "next": [s.to_dict() for s in schedule.upcoming(at_ms)],
                }
            )
        return {"schedules": out}

    # --- incidents ----------------------------------------------------------------------------
    def list_incidents(
        self, status: str | None = None, limit: int = 50, before: int | None = None
    ) -> dict[str, Any]:
        rows = self.incidents.page(status, limit, before)
        items = [self.incidents.to_api(row) for row in rows[:limit]]
        following = str(items[-1]["id"]) if len(rows) > limit else None
        return {"incidents": items, "next_cursor": following}

    def get_incident(self, incident_id: int) -> dict[str, Any]:
        row = self.incidents.row(incident_id)
        if row is None:
            raise HubError(404, f"no incident {incident_id}")
        incident = self.incidents.to_api(row)
        alerts = self.alerts.many(incident["alerts"])
        incident["alert_details"] = self._api(
            [alerts[f] for f in incident["alerts"] if f in alerts], self.muting(host.now_ms())
        )
        incident["timeline"] = self.incidents.timeline(incident_id)
        return incident

    def add_note(self, incident_id: int, by: str, text: str) -> dict[str, Any]:
        if self.incidents.row(incident_id) is None:
            raise HubError(404, f"no incident {incident_id}")
        self.incidents.record(incident_id, "note", text, host.now_ms(), detail={"by": by})
        return {"incident": incident_id, "timeline": self.incidents.timeline(incident_id)}

    def incident_services(self, incident_ids: list[int]) -> dict[str, list[str]]:
        found = {}
        for incident_id in incident_ids:
            row = self.incidents.row(int(incident_id))
            if row is not None:
                found[str(incident_id)] = list(loads(row["services"], []))
        return found

    def set_impacts(self, key: str, impacts: dict[str, dict[str, Any]]) -> dict[str, Any]:
        for incident_id, data in impacts.items():
            self.incidents.set_impact(int(incident_id), key, data)
        return {"incidents": len(impacts)}
