"""What every part of the hub's logic shares: storage, configuration, the parts, links.

`HubBase` holds the object's tables and cached configuration; the operations are layered on it
(`reading` -> `lifecycle` -> `configuring` -> `core`), each a small class of related methods.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Callable
from typing import Any

from alerting import config as config_module
from alerting import links
from alerting.channels.base import Transport
from alerting.channels.transport import HttpxTransport
from alerting.config import AlertingConfig
from alerting.hub import schema
from alerting.hub.alerts import Alert, Alerts
from alerting.hub.db import Db
from alerting.hub.delivery import Courier
from alerting.hub.dispatch import Dispatcher
from alerting.hub.escalations import Escalations
from alerting.hub.incidents import Incidents
from alerting.hub.outbox import Outbox
from alerting.hub.rulestate import RuleStates
from alerting.hub.silencing import Muting, Silences
from alerting.message import AlertView
from alerting.problems import Invalid
from alerting.rules import Rule, parse_rules
from obs_schema import host

SAMPLE_RETENTION_MS = 25 * 3_600_000
log = logging.getLogger("obs.alerting.hub")


class HubError(Exception):
    def __init__(
        self, status: int, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details or []


class HubBase:
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
        # `parts` runs for every alert that starts: the configuration it hands them is derived
        # once per configuration (and again only when `_config` is replaced).
        self._parts_config: tuple[AlertingConfig, AlertingConfig] | None = None
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
        config = self._with_base_url()
        courier = Courier(self.outbox, self.incidents, config, self.env, self.transport)
        dispatcher = Dispatcher(self.db, self.alerts, self.outbox, config, courier, self.view)
        escalations = Escalations(self.db, self.alerts, dispatcher, self.incidents, config)
        return dispatcher, escalations, courier

    def _with_base_url(self) -> AlertingConfig:
        """The configuration, with the stack's public URL when it names no `external_url`."""
        config = self.config
        if self._parts_config is None or self._parts_config[0] is not config:
            derived = config
            if not config.external_url and self.base_url():
                derived = dataclasses.replace(config, external_url=self.base_url())
            self._parts_config = (config, derived)
        return self._parts_config[1]

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

    def _active(self, fingerprint: str) -> Alert:
        alert = self.alerts.get(fingerprint)
        if alert is None:
            raise HubError(404, f"no alert {fingerprint!r}")
        if not alert.active:
            raise HubError(409, f"alert {fingerprint!r} is already resolved")
        return alert
