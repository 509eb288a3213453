"""Generic webhook: Alertmanager's webhook payload (version 4), signed with HMAC-SHA256.

The body is exactly what Alertmanager's `webhook_configs` POSTs (docs/configuration.md
`<webhook_config>`, notify/webhook/webhook.go): `version`, `groupKey`, `truncatedAlerts`,
`status`, `receiver`, `groupLabels`, `commonLabels`, `commonAnnotations`, `externalURL` and
`alerts` (each `status`, `labels`, `annotations`, `startsAt`, `endsAt`, `generatorURL`,
`fingerprint`); `max_alerts` truncates the list and counts the rest in `truncatedAlerts`.
When a signing secret is configured, two headers let the receiver authenticate the call and
refuse replays:

    X-Obs-Timestamp: <unix seconds>
    X-Obs-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from alerting.channels.base import USER_AGENT, HttpRequest, Notifier, common_settings, parse_secret
from alerting.message import Message
from alerting.problems import Problems, unknown_keys

KIND = "webhook"
SECRET_FIELDS = ("url", "hmac_secret")
TIMESTAMP_HEADER = "x-obs-timestamp"
SIGNATURE_HEADER = "x-obs-signature"


def parse_settings(data: Mapping[str, Any], problems: Problems) -> dict[str, Any]:
    allowed = {"url", "hmac_secret", "max_alerts", "send_resolved", "rate_limit"}
    unknown_keys(data, allowed, problems)
    settings = common_settings(data, problems, default=True)
    settings["url"] = problems.check(lambda: parse_secret(data.get("url"), "url"), "url")
    if data.get("hmac_secret") is not None:
        settings["hmac_secret"] = problems.check(
            lambda: parse_secret(data.get("hmac_secret"), "hmac_secret"), "hmac_secret"
        )
    max_alerts = data.get("max_alerts", 0)
    if isinstance(max_alerts, bool) or not isinstance(max_alerts, int) or max_alerts < 0:
        problems.add("must be a whole number (0 = all)", "max_alerts")
    settings["max_alerts"] = max_alerts
    return settings


def render(message: Message, max_alerts: int = 0) -> dict[str, Any]:
    alerts = list(message.alerts)
    shown = alerts[:max_alerts] if max_alerts > 0 else alerts
    return {
        "version": "4",
        "groupKey": message.group_key,
        "truncatedAlerts": len(alerts) - len(shown),
        "status": message.status,
        "receiver": message.receiver,
        "groupLabels": message.group_labels,
        "commonLabels": message.common_labels(),
        "commonAnnotations": message.common_annotations(),
        "externalURL": message.external_url,
        "alerts": [
            {
                "status": alert.status,
                "labels": alert.labels,
                "annotations": alert.string_annotations(),
                "startsAt": alert.starts_at,
                "endsAt": alert.ends_at,
                "generatorURL": alert.generator_url,
                "fingerprint": alert.fingerprint,
            }
            for alert in shown
        ],
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookNotifier(Notifier):
    kind = KIND

    def request(self, message: Message) -> HttpRequest:
        url = self.secret("url")
        body = json.dumps(
            render(message, int(self.settings.get("max_alerts") or 0)), ensure_ascii=False
        ).encode()
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        if self.settings.get("hmac_secret") is not None:
            timestamp = str(int(self.context.now_s))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = signature(self.secret("hmac_secret"), timestamp, body)
        return HttpRequest(url, headers, body, tuple(self._secrets))


NOTIFIER = WebhookNotifier
