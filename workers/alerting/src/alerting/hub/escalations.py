"""Running escalation policies: one row per escalating alert, its next level and when.

A level fires only while its alert is firing and unacknowledged; acknowledging or resolving
deletes the row, which is what stops the policy. While the alert is silenced or inhibited a
level passes without notifying (and says so on the timeline), so a silence taken during an
incident quiets escalation too.
"""

from __future__ import annotations

from alerting.config import AlertingConfig
from alerting.escalation import Policy, Step, Target
from alerting.hub.alerts import Alert, Alerts
from alerting.hub.db import Db
from alerting.hub.delivery import person_key
from alerting.hub.dispatch import Dispatcher, actions
from alerting.hub.incidents import Incidents
from alerting.hub.silencing import Muting
from alerting.message import Message


class Escalations:
    def __init__(
        self,
        db: Db,
        alerts: Alerts,
        dispatcher: Dispatcher,
        incidents: Incidents,
        config: AlertingConfig,
    ) -> None:
        self.db, self.alerts, self.dispatcher = db, alerts, dispatcher
        self.incidents, self.config = incidents, config

    def start(self, alert: Alert, policy: Policy, group_key: str, now_ms: int) -> None:
        step = policy.first(now_ms)
        self.db.run(
            "INSERT OR REPLACE INTO escalations (fingerprint, policy, level, cycle, next_ms, "
            "started_ms, group_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
            alert.fingerprint, policy.name, step.level, step.cycle, step.due_ms, now_ms, group_key,
        )  # fmt: skip

    def stop(self, fingerprint: str) -> bool:
        running = self.db.value(
            "SELECT count(*) FROM escalations WHERE fingerprint = ?", fingerprint
        )
        self.db.run("DELETE FROM escalations WHERE fingerprint = ?", fingerprint)
        return bool(running)

    def next_due(self) -> int | None:
        value = self.db.value("SELECT min(next_ms) FROM escalations")
        return None if value is None else int(value)

    def fire_due(self, muting: Muting, now_ms: int) -> int:
        rows = self.db.rows("SELECT * FROM escalations WHERE next_ms <= ? ORDER BY next_ms", now_ms)
        for row in rows:
            alert = self.alerts.get(row["fingerprint"])
            policy = self.config.policies.get(row["policy"])
            if alert is None or alert.status != "firing" or policy is None:
                self.stop(row["fingerprint"])
                continue
            step = Step(int(row["level"]), int(row["cycle"]), int(row["next_ms"]))
            self._fire(alert, policy, step, row["group_key"], muting, now_ms)
            following = policy.after(step, now_ms)
            if following is None:
                self.stop(alert.fingerprint)
            else:
                self.db.run(
                    "UPDATE escalations SET level = ?, cycle = ?, next_ms = ? "
                    "WHERE fingerprint = ?",
                    following.level, following.cycle, following.due_ms, alert.fingerprint,
                )  # fmt: skip
        return len(rows)

    def _fire(
        self, alert: Alert, policy: Policy, step: Step, group_key: str, muting: Muting, now_ms: int
    ) -> None:
        level = policy.levels[step.level]
        label = f"level {step.level + 1}" + (f" (repeat {step.cycle})" if step.cycle else "")
        if muting.muted(alert):
            self.incidents.record(
                alert.incident_id,
                "escalation_suppressed",
                f"{policy.name} {label} skipped: the alert is silenced or inhibited",
                now_ms,
                alert.fingerprint,
            )
            return
        reached = [self._notify(target, alert, step, group_key, now_ms) for target in level.targets]
        text = f"escalated to {policy.name} {label}: " + ", ".join(reached)
        detail = {
            "policy": policy.name,
            "level": step.level + 1,
            "cycle": step.cycle,
            "targets": reached,
        }
        self.incidents.record(
            alert.incident_id, "escalated", text, now_ms, alert.fingerprint, detail
        )

    def _message(
        self, alert: Alert, step: Step, group_key: str, receiver: str, target: str = ""
    ) -> Message:
        return Message(
            receiver=receiver,
            status="firing",
            group_key=group_key,
            group_labels={"alertname": alert.name},
            alerts=(self.dispatcher.viewer(alert),),
            reason=f"escalation level {step.level + 1}",
            external_url=self.dispatcher.base_url(),
            kind="escalation",
            escalation_level=step.level,
            incident_id=alert.incident_id,
            incident_url=self.dispatcher.incident_url(alert.incident_id),
            target=target,
        )

    def _notify(self, target: Target, alert: Alert, step: Step, group_key: str, now_ms: int) -> str:
        if target.kind == "receiver":
            message = self._message(alert, step, group_key, target.name)
            self.dispatcher.send_to_receiver(target.name, message, "escalation", now_ms)
            return f"receiver {target.name}"
        person = target.name
        if target.kind == "schedule":
            schedule = self.config.schedules.get(target.name)
            if schedule is None:
                return f"schedule {target.name} (unknown)"
            person = schedule.who(now_ms).user
        return self._notify_person(person, alert, step, group_key, now_ms) + (
            f" (on call for {target.name})" if target.kind == "schedule" else ""
        )

    def _notify_person(
        self, name: str, alert: Alert, step: Step, group_key: str, now_ms: int
    ) -> str:
        person = self.config.people.get(name)
        ways = []
        if person is not None:
            for kind, address in (("email", person.email), ("sms", person.phone)):
                if address and kind in self.config.providers:
                    message = self._message(alert, step, group_key, f"person:{name}", address)
                    self.dispatcher.outbox.enqueue(
                        person_key(name, kind),
                        kind,
                        "escalation",
                        message,
                        actions(message),
                        now_ms,
                    )
                    ways.append(kind)
        return (
            f"{name} by {' and '.join(ways)}"
            if ways
            else f"{name} (no email or SMS provider to reach them)"
        )
