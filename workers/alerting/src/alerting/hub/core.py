"""The alerting Durable Object's logic: every operation, and the alarm that drives time.

All alert state is in this one object, so deduplication, grouping and the lifecycle are
strongly consistent (DESIGN §5). Time-driven work (group flushes, escalation levels, delivery
retries, `endsAt` expiry) is a set of due times in the tables; the object's single alarm is
always set to the earliest of them, so each fires at its exact instant and survives restarts.
Operations are called through `call(op, args)` with plain dicts, and answer plain dicts; a
client error comes back as `{"error": {"status", "message", "details"}}`.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from alerting import config as config_module
from alerting import links
from alerting.channels.base import Transport
from alerting.channels.transport import HttpxTransport
from alerting.config import AlertingConfig
from alerting.evaluation import evaluate
from alerting.hub import retention, schema
from alerting.hub.alerts import Alert, Alerts
from alerting.hub.db import Db, loads
from alerting.hub.delivery import Courier
from alerting.hub.dispatch import Dispatcher
from alerting.hub.escalations import Escalations
from alerting.hub.incidents import Incidents
from alerting.hub.outbox import Outbox
from alerting.hub.rulestate import RuleStates
from alerting.hub.silencing import Muting, Silences
from alerting.intake import normalize
from alerting.message import AlertView, Message
from alerting.problems import Invalid
from alerting.rules import Rule, parse_rules
from alerting.silences import parse as parse_silence
from obs_schema import host
from obs_schema.models.alert import AlertEvent

SAMPLE_RETENTION_MS = 25 * 3_600_000
log = logging.getLogger("obs.alerting.hub")


class HubError(Exception):
    def __init__(
        self, status: int, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details or []


class HubCore:
    def __init__(
        self, storage: Any, env: Any, transport_factory: Callable[[], Transport] = HttpxTransport
    ) -> None:
        self.storage, self.env = storage, env
        self.db = Db(storage.sql)
        schema.create(self.db)
        # One HTTP client for the object's life: connections (and TLS setup) are reused.
        self.transport_factory = transport_factory
        self._transport: Transport | None = None
        self._config: AlertingConfig | None = None
        self._rules: tuple[Rule, ...] | None = None
        self.alerts = Alerts(self.db)
        self.outbox = Outbox(self.db)
        self.incidents = Incidents(self.db)
        self.silences = Silences(self.db)
        self.rule_states = RuleStates(self.db)

    # --- configuration ----------------------------------------------------------------------
    @property
    def config(self) -> AlertingConfig:
        if self._config is None:
            stored = self.db.setting("config")
            try:
                self._config = (
                    config_module.default() if stored is None else config_module.parse(stored)
                )
            except Invalid as invalid:
                # A document stored by an older version that this one refuses: keep recording
                # alerts (on the default route) and say why loudly, rather than refuse everything.
                log.error(
                    "the stored alerting configuration is invalid (%s); using the default", invalid
                )
                self._config = config_module.default()
        return self._config

    @property
    def rules(self) -> tuple[Rule, ...]:
        if self._rules is None:
            self._rules = parse_rules(self.db.setting("rules") or [])
        return self._rules

    def base_url(self) -> str:
        configured = self.config.external_url
        return configured or str(getattr(self.env, "OBS_PUBLIC_URL", "") or "").rstrip("/")

    def parts(self) -> tuple[Dispatcher, Escalations, Courier]:
        config = self.config
        if not config.external_url and self.base_url():
            config = dataclasses.replace(config, external_url=self.base_url())
        courier = Courier(self.outbox, self.incidents, config, self.env, self.transport)
        dispatcher = Dispatcher(self.db, self.alerts, self.outbox, config, courier, self.view)
        escalations = Escalations(self.db, self.alerts, dispatcher, self.incidents, config)
        return dispatcher, escalations, courier

    def transport(self) -> Transport:
        if self._transport is None:
            self._transport = self.transport_factory()
        return self._transport

    def muting(self, now_ms: int) -> Muting:
        rules = self.config.inhibit_rules
        # Inhibition needs every active alert; without rules, skip reading them.
        firing = self.alerts.active() if rules else []
        return Muting(self.silences.active(now_ms), rules, firing, now_ms)

    # --- signed links -----------------------------------------------------------------------
    def link_key(self) -> bytes:
        key = self.db.setting("link_key")
        if key is None:
            key = secrets.token_hex(32)
            self.db.put_setting("link_key", key)
        return bytes.fromhex(str(key))

    def view(self, alert: Alert) -> AlertView:
        base = self.base_url()
        found: dict[str, str] = {}
        if alert.active and base:
            expires = host.now_ms() + links.DEFAULT_TTL_MS
            for action in links.ACTIONS:
                token = links.sign(
                    self.link_key(), links.Link(action, alert.fingerprint, "link", expires)
                )
                found[action] = f"{base}/alerts/links/{token}"
        return alert.view(base, found)

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
        expiry = self.db.value(
            "SELECT min(expires_ms) FROM alerts WHERE status IN ('firing', 'acknowledged')"
        )
        candidates = [dispatcher.next_due(), escalations.next_due(), self.outbox.next_due(), expiry]
        due = [int(c) for c in candidates if c is not None]
        want = max(min(due), host.now_ms()) if due else None
        if await self.storage.getAlarm() != want:
            if want is None:
                await self.storage.deleteAlarm()
            else:
                await self.storage.setAlarm(want)

    # --- intake and lifecycle ---------------------------------------------------------------
    def ingest(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        now_ms = host.now_ms()
        opened: list[int] = []
        for event in events:
            opened += self._ingest_one(event, now_ms)
        return {"accepted": len(events), "opened_incidents": opened, "stats": self.stats()}

    def _ingest_one(self, event: dict[str, Any], now_ms: int) -> list[int]:
        alert = self.alerts.get(event["fingerprint"])
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

    def _active(self, fingerprint: str) -> Alert:
        alert = self.alerts.get(fingerprint)
        if alert is None:
            raise HubError(404, f"no alert {fingerprint!r}")
        if not alert.active:
            raise HubError(409, f"alert {fingerprint!r} is already resolved")
        return alert

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

    # --- reading alerts ---------------------------------------------------------------------
    def _api(self, alerts: list[Alert], muting: Muting) -> list[dict[str, Any]]:
        out = []
        for alert in alerts:
            active = alert.active
            silenced = muting.silenced_by(alert.labels) if active else []
            inhibited = muting.inhibited_by(alert.fingerprint, alert.labels) if active else []
            shown = alert.to_api(silenced, inhibited)
            shown["receivers"] = [r.receiver for r in self.config.route.match(alert.labels)]
            out.append(shown)
        return out

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

    # --- configuration and rules --------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return self.config.redacted()

    def put_config(self, document: dict[str, Any]) -> dict[str, Any]:
        parsed = config_module.parse(document, self.config.document)
        self.db.put_setting("config", dict(parsed.document))
        self._config = parsed
        return parsed.redacted()

    def get_rules(self) -> dict[str, Any]:
        states = self.rule_states.summary()
        return {
            "rules": [
                {**rule.to_dict(), "instances": states.get(rule.name, {})} for rule in self.rules
            ]
        }

    def put_rules(self, document: Any) -> dict[str, Any]:
        rules = parse_rules(document)
        self.db.put_setting("rules", [rule.to_dict() for rule in rules])
        self._rules = rules
        return self.get_rules()

    def evaluate(
        self, snapshots: dict[str, Any], available: list[str], now_ms: int | None = None
    ) -> dict[str, Any]:
        now_ms = host.now_ms() if now_ms is None else now_ms
        states = self.rule_states.load()
        new_states, events, samples = {}, [], {}
        for rule in self.rules:
            outcome = evaluate(
                rule,
                snapshots,
                set(available),
                states.get(rule.name, {}),
                now_ms,
                self.rule_states.past,
            )
            new_states[rule.name] = outcome.states
            events += outcome.events
            samples.update(outcome.samples)
        for name in set(states) - set(new_states):
            self._retire(name, now_ms)
        self.rule_states.replace(new_states)
        self.rule_states.record(samples, now_ms)
        self.rule_states.prune(now_ms - SAMPLE_RETENTION_MS)
        if retention.due(self.db, now_ms):
            retention.prune(self.db, now_ms)
        normalized = [normalize(AlertEvent.model_validate(e)) for e in events]
        result = self.ingest(normalized)
        return {"rules": len(self.rules), "events": len(normalized), **result}

    def _retire(self, rule: str, now_ms: int) -> None:
        """A rule that was removed resolves the alerts it had firing."""
        rows = self.db.rows(
            "SELECT * FROM alerts WHERE source = 'rules' AND name = ? AND status != 'resolved'",
            rule,
        )
        for row in rows:
            self._resolve(Alert.from_row(row), now_ms, "rule removed", now_ms)

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


def _title(alert: Alert, group_labels: dict[str, str]) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in sorted(group_labels.items()) if k != "alertname")
    return f"{alert.name} ({shown})" if shown else alert.name


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
