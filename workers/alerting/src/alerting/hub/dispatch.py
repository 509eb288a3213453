"""Aggregation groups in storage: alerts join the groups their routes give, groups flush on time.

Each integration of a group's receiver keeps its own record of the last notification (as
Alertmanager's notification log does per receiver integration), so an integration that does
not want resolved notifications is not woken by a resolution.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from alerting import grouping
from alerting.config import AlertingConfig, Integration
from alerting.hub.alerts import Alert, Alerts
from alerting.hub.db import Db, Row, dumps, loads
from alerting.hub.delivery import Courier
from alerting.hub.outbox import Outbox
from alerting.hub.silencing import Muting
from alerting.message import AlertView, Message
from alerting.routing import Route

Viewer = Callable[[Alert], AlertView]  # an alert as messages show it (with signed links)


def actions(message: Message) -> dict[str, str]:
    if message.kind == "acknowledge":
        return {a.fingerprint: "acknowledge" for a in message.alerts}
    return {a.fingerprint: "trigger" if a.status == "firing" else "resolve" for a in message.alerts}


class Dispatcher:
    def __init__(
        self,
        db: Db,
        alerts: Alerts,
        outbox: Outbox,
        config: AlertingConfig,
        courier: Courier,
        viewer: Viewer,
    ) -> None:
        self.db, self.alerts, self.outbox, self.config = db, alerts, outbox, config
        self.courier, self.viewer = courier, viewer

    # --- joining groups ---------------------------------------------------------------------
    def admit(self, alert: Alert, now_ms: int) -> list[tuple[Route, str]]:
        """Put a newly firing alert in the group of every route that takes it."""
        taken = []
        for route in self.config.route.match(alert.labels):
            key = route.group_key(alert.labels)
            self.db.run(
                "INSERT OR IGNORE INTO groups (key, route_key, receiver, labels, group_wait_ms, "
                "group_interval_ms, repeat_interval_ms, created_ms, next_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                key, route.key, route.receiver, dumps(route.group_labels(alert.labels)),
                route.group_wait_ms, route.group_interval_ms, route.repeat_interval_ms, now_ms,
                now_ms + route.group_wait_ms,
            )  # fmt: skip
            self.db.run(
                "INSERT OR IGNORE INTO group_alerts (group_key, fingerprint) VALUES (?, ?)",
                key, alert.fingerprint,
            )  # fmt: skip
            taken.append((route, key))
        return taken

    def admit_many(
        self, alerts: list[tuple[str, dict[str, str]]], now_ms: int
    ) -> list[list[tuple[Route, str]]]:
        """`admit` for several newly firing alerts (fingerprint, labels) in two statements."""
        taken = [
            [(route, route.group_key(labels)) for route in self.config.route.match(labels)]
            for _, labels in alerts
        ]
        groups, members = [], []
        for (fingerprint, labels), routes in zip(alerts, taken, strict=True):
            for route, key in routes:
                groups.append([
                    key, route.key, route.receiver, dumps(route.group_labels(labels)),
                    route.group_wait_ms, route.group_interval_ms, route.repeat_interval_ms,
                    now_ms + route.group_wait_ms,
                ])  # fmt: skip
                members.append([key, fingerprint])
        # In the order `admit` would insert them one by one: the first row of a group wins.
        self.db.run(
            "INSERT OR IGNORE INTO groups (key, route_key, receiver, labels, group_wait_ms, "
            "group_interval_ms, repeat_interval_ms, created_ms, next_ms) "
            "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
            "json_extract(value, '$[2]'), json_extract(value, '$[3]'), "
            "json_extract(value, '$[4]'), json_extract(value, '$[5]'), "
            "json_extract(value, '$[6]'), ?, json_extract(value, '$[7]') FROM json_each(?)",
            now_ms, dumps(groups),
        )  # fmt: skip
        self.db.run(
            "INSERT OR IGNORE INTO group_alerts (group_key, fingerprint) "
            "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)",
            dumps(members),
        )
        return taken

    # --- flushing ---------------------------------------------------------------------------
    def next_due(self) -> int | None:
        value = self.db.value("SELECT min(next_ms) FROM groups")
        return None if value is None else int(value)

    def flush_due(self, muting: Muting, now_ms: int) -> int:
        rows = self.db.rows("SELECT * FROM groups WHERE next_ms <= ? ORDER BY next_ms", now_ms)
        for row in rows:
            self.flush(row, muting, now_ms)
        return len(rows)

    def flush(self, group: Row, muting: Muting, now_ms: int) -> None:
        members = self.members(group["key"])
        entries: dict[str, Any] = loads(group["entries"], {})
        states = [
            grouping.Member(a.fingerprint, a.active, muting.muted(a), a.status == "acknowledged")
            for a in members
        ]
        # Muted by a time interval: nothing is sent and nothing recorded as sent, so the first
        # tick after the interval notifies as if the mute had never been.
        route = self.config.route_for(group["route_key"])
        integrations = (
            ()
            if self.config.time_muted(route, now_ms)
            else self.config.receivers.get(group["receiver"], ())
        )
        for integration in integrations:
            send_resolved = bool(integration.settings.get("send_resolved", False))
            decision = grouping.flush(
                states,
                grouping.Entry.from_row(entries.get(integration.key)),
                repeat_ms=int(group["repeat_interval_ms"]),
                now_ms=now_ms,
                send_resolved=send_resolved,
            )
            if decision.send:
                shown = set(decision.firing) | set(decision.resolved)
                message = self.message(
                    group, [a for a in members if a.fingerprint in shown], decision.reason or ""
                )
                self.send(integration, message, "group", now_ms)
                entry = grouping.Entry(
                    frozenset(decision.firing), frozenset(decision.resolved), now_ms
                )
                entries[integration.key] = entry.to_row()
        self._after_flush(
            group, [a.fingerprint for a in members if not a.active], len(members), entries, now_ms
        )

    def _after_flush(
        self, group: Row, resolved: list[str], count: int, entries: dict[str, Any], now_ms: int
    ) -> None:
        # Resolved alerts leave the group once a tick has seen them; an empty group ends.
        self.db.run(
            "DELETE FROM group_alerts WHERE group_key = ? "
            "AND fingerprint IN (SELECT value FROM json_each(?))",
            group["key"], dumps(resolved),
        )  # fmt: skip
        if len(resolved) >= count:
            self.db.run("DELETE FROM groups WHERE key = ?", group["key"])
            self.db.run("DELETE FROM group_alerts WHERE group_key = ?", group["key"])
            return
        self.db.run(
            "UPDATE groups SET next_ms = ?, flushed = 1, entries = ? WHERE key = ?",
            now_ms + int(group["group_interval_ms"]), dumps(entries), group["key"],
        )  # fmt: skip

    def members(self, group_key: str) -> list[Alert]:
        rows = self.db.rows(
            "SELECT a.* FROM group_alerts g JOIN alerts a ON a.fingerprint = g.fingerprint "
            "WHERE g.group_key = ? ORDER BY a.starts_ms, a.fingerprint",
            group_key,
        )
        return [Alert.from_row(row) for row in rows]

    def message(self, group: Row, alerts: list[Alert], reason: str) -> Message:
        views = tuple(self.viewer(a) for a in alerts)
        incident = next((a.incident_id for a in alerts if a.incident_id is not None), None)
        return Message(
            receiver=group["receiver"],
            status="firing" if any(v.status == "firing" for v in views) else "resolved",
            group_key=group["key"],
            group_labels=loads(group["labels"], {}),
            alerts=views,
            reason=reason,
            external_url=self.base_url(),
            incident_id=incident,
            incident_url=self.incident_url(incident),
        )

    def base_url(self) -> str:
        return self.config.external_url

    def incident_url(self, incident_id: int | None) -> str:
        if incident_id is None or not self.base_url():
            return ""
        return f"{self.base_url()}/alerts/incidents/{incident_id}"

    # --- handing messages to the outbox -------------------------------------------------------
    def send(self, integration: Integration, message: Message, purpose: str, now_ms: int) -> int:
        notifier = self.courier.notifier(integration.kind, integration.key, now_ms)
        parts = notifier.split(message) if notifier is not None else [message]
        for part in parts:
            self.outbox.enqueue(
                integration.key, integration.kind, purpose, part, actions(part), now_ms
            )
        return len(parts)

    def send_to_receiver(
        self,
        receiver: str,
        message: Message,
        purpose: str,
        now_ms: int,
        kinds: Iterable[str] | None = None,
    ) -> int:
        wanted = set(kinds) if kinds is not None else None
        sent = 0
        for integration in self.config.receivers.get(receiver, ()):
            if wanted is None or integration.kind in wanted:
                sent += self.send(integration, message, purpose, now_ms)
        return sent

    # --- the groups view ------------------------------------------------------------------
    def groups_api(self) -> list[dict[str, Any]]:
        out = []
        for row in self.db.rows("SELECT * FROM groups ORDER BY key"):
            out.append(
                {
                    "key": row["key"],
                    "receiver": row["receiver"],
                    "labels": loads(row["labels"], {}),
                    "alerts": [a.fingerprint for a in self.members(row["key"])],
                    "next_flush_ms": row["next_ms"],
                    "flushed": bool(row["flushed"]),
                }
            )
        return out
