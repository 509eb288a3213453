"""The lifecycle: intake, deduplication, firing -> acknowledged -> resolved, signed links.

A new firing alert joins its routes' groups, opens or joins an incident and starts its route's
escalation policy; acknowledging stops the escalation and acknowledges PagerDuty; resolving
stops it too and closes the incident once its last alert has resolved.
"""

from __future__ import annotations

from typing import Any

from alerting import links
from alerting.hub.alerts import Alert
from alerting.hub.base import HubError
from alerting.hub.dispatch import Dispatcher
from alerting.hub.reading import Reading
from alerting.message import Message
from obs_schema import host


class Lifecycle(Reading):
    # --- intake and lifecycle ---------------------------------------------------------------
    def ingest(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        now_ms = host.now_ms()
        opened: list[int] = []
        # The batch's alerts in one read. An alert's row changes only through events of its
        # own fingerprint, so only a fingerprint seen again in the batch is read again.
        known = (
            self.alerts.many(sorted({event["fingerprint"] for event in events})) if events else {}
        )
        seen: set[str] = set()
        for event in events:
            fingerprint = event["fingerprint"]
            alert = self.alerts.get(fingerprint) if fingerprint in seen else known.get(fingerprint)
            seen.add(fingerprint)
            opened += self._ingest_one(event, alert, now_ms)
        return {"accepted": len(events), "opened_incidents": opened, "stats": self.stats()}

    def _ingest_one(self, event: dict[str, Any], alert: Alert | None, now_ms: int) -> list[int]:
        if event.get("expires_default"):
            event = {**event, "expires_ms": now_ms + self.config.resolve_timeout_ms}
        if event["status"] == "firing":
            if alert is None or not alert.active:
                return self._start(self.alerts.start(event, alert, now_ms), now_ms)
            self.alerts.refresh(alert, event, now_ms)
        elif alert is not None and alert.active:
            self._resolve(
                alert, event.get("ends_ms") or now_ms, event.get("source") or "event", now_ms
            )
        return []

    def _start(self, alert: Alert, now_ms: int) -> list[int]:
        dispatcher, escalations, _ = self.parts()
        taken = dispatcher.admit(alert, now_ms)
        primary = taken[0][1]
        incident = self.incidents.open_for(primary)
        opened = []
        if incident is None:
            incident = self.incidents.open(
                primary,
                _title(alert, taken[0][0].group_labels(alert.labels)),
                alert.severity,
                [],
                now_ms,
            )
            opened.append(incident)
        self.alerts.set_incident(alert.fingerprint, incident)
        self.incidents.attach(
            incident, alert.fingerprint, alert.severity, alert.labels.get("service")
        )
        summary = alert.annotations.get("summary") or ""
        self.incidents.record(
            incident,
            "fired",
            f"{alert.name} fired ({alert.severity}){': ' + summary if summary else ''}",
            now_ms,
            alert.fingerprint,
            {"labels": alert.labels},
        )
        for route, group_key in taken:
            policy = self.config.policies.get(route.escalation or "")
            if policy is not None:
                escalations.start(alert, policy, group_key, now_ms)
                break
        return opened

    def _resolve(self, alert: Alert, ends_ms: int, by: str, now_ms: int) -> None:
        self.alerts.resolve(alert.fingerprint, max(ends_ms, alert.starts_ms), by, now_ms)
        dispatcher, escalations, _ = self.parts()
        escalations.stop(alert.fingerprint)
        resolved = self.alerts.get(alert.fingerprint)
        assert resolved is not None
        self._tell_pagerduty(dispatcher, resolved, now_ms, "resolve")
        self.incidents.record(
            alert.incident_id,
            "resolved",
            f"{alert.name} resolved by {by}",
            now_ms,
            alert.fingerprint,
        )
        if alert.incident_id is not None and self.incidents.resolve_if_done(
            alert.incident_id, now_ms
        ):
            self.incidents.record(
                alert.incident_id,
                "incident_resolved",
                "every alert of the incident has resolved",
                now_ms,
            )

    def acknowledge(self, fingerprint: str, by: str, note: str = "") -> dict[str, Any]:
        alert = self._active(fingerprint)
        if alert.status == "acknowledged":
            return self.get_alert(fingerprint)
        now_ms = host.now_ms()
        self.alerts.acknowledge(fingerprint, by, note, now_ms)
        dispatcher, escalations, _ = self.parts()
        stopped = escalations.stop(fingerprint)
        text = (
            f"{alert.name} acknowledged by {by}"
            + (" (escalation stopped)" if stopped else "")
            + (f": {note}" if note else "")
        )
        self.incidents.record(
            alert.incident_id, "acknowledged", text, now_ms, fingerprint, {"by": by}
        )
        if alert.incident_id is not None:
            self.incidents.acknowledge(alert.incident_id, by, now_ms)
        acked = self.alerts.get(fingerprint)
        assert acked is not None
        self._tell_pagerduty(dispatcher, acked, now_ms, "acknowledge")
        return self.get_alert(fingerprint)

    def _tell_pagerduty(self, dispatcher: Dispatcher, alert: Alert, now_ms: int, what: str) -> None:
        """Acknowledge or resolve the PagerDuty incidents this alert triggered (same dedup_key).

        A resolution reaches integrations of the alert's own groups with the group's next tick
        (as Alertmanager sends it); the others (escalation targets) are told here and now.
        """
        grouped = set()
        if what == "resolve":
            rows = self.db.rows(
                "SELECT DISTINCT g.receiver FROM groups g JOIN group_alerts a "
                "ON a.group_key = g.key WHERE a.fingerprint = ?",
                alert.fingerprint,
            )
            grouped = {row["receiver"] for row in rows}
        for key in self.outbox.triggered(alert.fingerprint, "pagerduty", alert.starts_ms):
            integration = self.config.integration(key)
            if integration is None or integration.receiver in grouped:
                continue
            if what == "resolve" and not integration.settings.get("send_resolved", True):
                continue
            acknowledging = what == "acknowledge"
            message = Message(
                receiver=integration.receiver, status="firing" if acknowledging else "resolved",
                group_key="", group_labels={}, alerts=(self.view(alert),), reason=what,
                kind="acknowledge" if acknowledging else "group",
                external_url=self.base_url(), incident_id=alert.incident_id,
            )  # fmt: skip
            dispatcher.send(integration, message, what, now_ms)

    def resolve(self, fingerprint: str, by: str, note: str = "") -> dict[str, Any]:
        alert = self._active(fingerprint)
        self._resolve(alert, host.now_ms(), by + (f" ({note})" if note else ""), host.now_ms())
        return self.get_alert(fingerprint)

    def follow_link(self, token: str) -> dict[str, Any]:
        try:
            link = links.verify(self.link_key(), token, host.now_ms())
        except links.LinkError as error:
            raise HubError(403, str(error)) from None
        alert = self.alerts.get(link.fingerprint)
        if alert is None:
            raise HubError(404, "the alert of this link no longer exists")
        if not alert.active:
            return {
                "action": link.action,
                "done": False,
                "alert": self.get_alert(alert.fingerprint),
            }
        by = f"one-click link ({link.by})"
        result = (
            self.acknowledge(alert.fingerprint, by)
            if link.action == "ack"
            else self.resolve(alert.fingerprint, by)
        )
        return {"action": link.action, "done": True, "alert": result}


def _title(alert: Alert, group_labels: dict[str, str]) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in sorted(group_labels.items()) if k != "alertname")
    return f"{alert.name} ({shown})" if shown else alert.name
