"""The lifecycle: intake, deduplication, firing -> acknowledged -> resolved, signed links.

A new firing alert joins its routes' groups, opens or joins an incident and starts its route's
escalation policy; acknowledging stops the escalation and acknowledges PagerDuty; resolving
stops it too and closes the incident once its last alert has resolved.
"""

from __future__ import annotations

from collections.abc import Mapping
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
        # Consecutive new episodes are started together (`_start_many`); anything else first
        # lets the ones before it start, so every event sees the state its predecessors left.
        starting: list[tuple[dict[str, Any], Alert | None]] = []
        for event in events:
            fingerprint = event["fingerprint"]
            if fingerprint in seen:
                opened += self._start_many(starting, now_ms)
                starting = []
                alert = self.alerts.get(fingerprint)
            else:
                alert = known.get(fingerprint)
            seen.add(fingerprint)
            if event.get("expires_default"):
                event = {**event, "expires_ms": now_ms + self.config.resolve_timeout_ms}
            if event["status"] == "firing" and (alert is None or not alert.active):
                starting.append((event, alert))
                continue
            opened += self._start_many(starting, now_ms)
            starting = []
            self._update(event, alert, now_ms)
        opened += self._start_many(starting, now_ms)
        return {"accepted": len(events), "opened_incidents": opened, "stats": self.stats()}

    def _update(self, event: dict[str, Any], alert: Alert | None, now_ms: int) -> None:
        """An event for an alert that is not starting: a duplicate, or a resolution."""
        if event["status"] == "firing":
            if alert is not None:
                self.alerts.refresh(alert, event, now_ms)
        elif alert is not None and alert.active:
            self._resolve(
                alert, event.get("ends_ms") or now_ms, event.get("source") or "event", now_ms
            )

    def _start_many(
        self, starting: list[tuple[dict[str, Any], Alert | None]], now_ms: int
    ) -> list[int]:
        """New episodes for these events, as `_start` one after the other would leave them, in
        a handful of statements instead of a dozen per alert (a busy log stream raises several
        alerts per ingest batch). One alert, or routes with an escalation policy (whose start
        reads and writes per alert), take `_start`."""
        config = self.config
        routed = [config.route.match(event["labels"]) for event, _ in starting]
        escalating = any(
            config.policies.get(route.escalation or "") is not None
            for routes in routed
            for route in routes
        )
        if len(starting) < 2 or escalating:
            opened = []
            for event, previous in starting:
                opened += self._start(self.alerts.start(event, previous, now_ms), now_ms)
            return opened
        dispatcher, _, _ = self.parts()
        taken = dispatcher.admit_many(
            [(e["fingerprint"], e["labels"]) for e, _ in starting], now_ms
        )
        primaries = [routes[0][1] for routes in taken]
        incidents = self.incidents.open_for_many(sorted(set(primaries)))
        opened = []
        for (event, _), routes, primary in zip(starting, taken, primaries, strict=True):
            if primary not in incidents:
                title = _title(event["name"], routes[0][0].group_labels(event["labels"]))
                incidents[primary] = self.incidents.open(
                    primary, title, event["severity"], [], now_ms
                )
                opened.append(incidents[primary])
        self.alerts.start_many(
            [
                [event, previous.episode if previous else 0, incidents[primary]]
                for (event, previous), primary in zip(starting, primaries, strict=True)
            ],
            now_ms,
        )
        joining = [
            (incidents[primary], e["fingerprint"], e["severity"], e["labels"].get("service"))
            for (e, _), primary in zip(starting, primaries, strict=True)
        ]
        self.incidents.attach_many(joining)
        self.incidents.record_many(
            [
                [
                    incidents[primary],
                    "fired",
                    _fired(e["name"], e["severity"], e["annotations"]),
                    e["fingerprint"],
                    {"labels": e["labels"]},
                ]
                for (e, _), primary in zip(starting, primaries, strict=True)
            ],
            now_ms,
        )
        return opened

    def _start(self, alert: Alert, now_ms: int) -> list[int]:
        dispatcher, escalations, _ = self.parts()
        taken = dispatcher.admit(alert, now_ms)
        primary = taken[0][1]
        incident = self.incidents.open_for(primary)
        opened = []
        if incident is None:
            incident = self.incidents.open(
                primary,
                _title(alert.name, taken[0][0].group_labels(alert.labels)),
                alert.severity,
                [],
                now_ms,
            )
            opened.append(incident)
        self.alerts.set_incident(alert.fingerprint, incident)
        self.incidents.attach(
            incident, alert.fingerprint, alert.severity, alert.labels.get("service")
        )
        self.incidents.record(
            incident,
            "fired",
            _fired(alert.name, alert.severity, alert.annotations),
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


def _fired(name: str, severity: str, annotations: Mapping[str, Any]) -> str:
    summary = annotations.get("summary") or ""
    return f"{name} fired ({severity}){': ' + summary if summary else ''}"


def _title(name: str, group_labels: dict[str, str]) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in sorted(group_labels.items()) if k != "alertname")
    return f"{name} ({shown})" if shown else name
