"""PagerDuty Events API v2: one event per alert, `dedup_key` = the alert's fingerprint.

`POST https://events.pagerduty.com/v2/enqueue` (PagerDuty developer docs, events-API-v2):
`routing_key` (the 32-character integration key, a secret), `event_action` (`trigger`,
`acknowledge`, `resolve`) and `dedup_key` correlate the three; a trigger also carries
`payload` (`summary` <= 1024 characters, `source`, `severity` in critical/error/warning/info,
optional `timestamp`, `component`, `group`, `class`, `custom_details`), `links`, `client` and
`client_url`. Acknowledge and resolve carry only `routing_key`, `dedup_key` and `event_action`.
Answers: 202 accepted, 400 invalid (not retried), 429 and 5xx retried.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from alerting.channels.base import USER_AGENT, HttpRequest, Notifier, common_settings, parse_secret
from alerting.message import AlertView, Message
from alerting.problems import Problems, unknown_keys

KIND = "pagerduty"
SECRET_FIELDS = ("routing_key",)
DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
CLIENT = "Pitchey Observability"
MAX_SUMMARY_CHARS = 1024
SEVERITIES = ("critical", "error", "warning", "info")


def parse_settings(data: Mapping[str, Any], problems: Problems) -> dict[str, Any]:
    unknown_keys(data, {"routing_key", "url", "send_resolved", "rate_limit"}, problems)
    settings = common_settings(data, problems, default=True)
    key = problems.check(
        lambda: parse_secret(data.get("routing_key"), "routing_key"), "routing_key"
    )
    if isinstance(key, str) and len(key) != 32:
        problems.add("a PagerDuty integration key has 32 characters", "routing_key")
    settings["routing_key"] = key
    url = data.get("url", DEFAULT_URL)
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        problems.add("must be an http(s) URL", "url")
    settings["url"] = url
    return settings


def action(message: Message, alert: AlertView) -> str:
    if message.kind == "acknowledge":
        return "acknowledge"
    return "resolve" if alert.status == "resolved" else "trigger"


def _source(alert: AlertView) -> str:
    labels = alert.labels
    return labels.get("instance") or labels.get("service") or alert.source or "pitchey"


def _summary(alert: AlertView) -> str:
    text = alert.summary if alert.summary == alert.name else f"{alert.name}: {alert.summary}"
    return text if len(text) <= MAX_SUMMARY_CHARS else text[: MAX_SUMMARY_CHARS - 1] + "…"


def _payload(message: Message, alert: AlertView) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "summary": _summary(alert),
        "source": _source(alert),
        "severity": alert.severity if alert.severity in SEVERITIES else "warning",
        "timestamp": alert.starts_at,
    }
    optional = {
        "component": alert.labels.get("service", ""),
        "group": alert.labels.get("team", "") or message.receiver,
        "class": alert.name,
    }
    payload.update({k: v for k, v in optional.items() if v})
    details: dict[str, Any] = {"labels": alert.labels, "firing": alert.status == "firing"}
    annotations = alert.string_annotations()
    if annotations:
        details["annotations"] = annotations
    if message.escalation_level is not None:
        details["escalation_level"] = message.escalation_level + 1
    if message.incident_id is not None:
        details["incident"] = message.incident_id
    payload["custom_details"] = details
    return payload


def render(message: Message, routing_key: str) -> dict[str, Any]:
    """The event for the message's (single) alert."""
    alert = message.alerts[0]
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action(message, alert),
        "dedup_key": alert.fingerprint,
    }
    if event["event_action"] != "trigger":
        return event
    event["payload"] = _payload(message, alert)
    links = [{"href": link["url"], "text": link["text"]} for link in alert.links()]
    if alert.url:
        links.append({"href": alert.url, "text": "Alert"})
    if links:
        event["links"] = links
    event["client"] = CLIENT
    if message.external_url:
        event["client_url"] = message.external_url
    return event


class PagerDutyNotifier(Notifier):
    kind = KIND

    def split(self, message: Message) -> list[Message]:
        alerts = message.alerts if self.send_resolved() else tuple(message.firing)
        return [message.only([alert]) for alert in alerts]

    def request(self, message: Message) -> HttpRequest:
        key = self.secret("routing_key")
        body = json.dumps(render(message, key), ensure_ascii=False).encode()
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        return HttpRequest(str(self.settings.get("url", DEFAULT_URL)), headers, body, (key,))


NOTIFIER = PagerDutyNotifier
