"""Slack incoming webhooks: a Block Kit message with severity, summary, labels and links.

The webhook URL is itself the credential (api.slack.com/messaging/webhooks), so it is a secret
setting. `text` is the notification fallback when `blocks` are present; a header is plain text
of at most 150 characters, a section's text at most 3000, and a message at most 50 blocks.
Each firing alert gets Acknowledge and Resolve buttons carrying signed one-click links. Link
unfurling is off, so Slack itself never fetches (and so never clicks) those links.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from alerting.channels.base import USER_AGENT, HttpRequest, Notifier, common_settings, parse_secret
from alerting.message import AlertView, Message
from alerting.problems import Problems, unknown_keys

KIND = "slack"
SECRET_FIELDS = ("url",)
MAX_BLOCKS = 50
MAX_HEADER_CHARS = 150
MAX_SECTION_CHARS = 3000
MAX_ALERTS_SHOWN = 20  # two blocks each, plus the header and the footer: within 50 blocks
EMOJI = {"critical": "🔴", "error": "🟠", "warning": "🟡", "info": "🔵"}


def parse_settings(data: Mapping[str, Any], problems: Problems) -> dict[str, Any]:
    unknown_keys(data, {"url", "send_resolved", "rate_limit"}, problems)
    settings = common_settings(data, problems, default=False)
    settings["url"] = problems.check(lambda: parse_secret(data.get("url"), "url"), "url")
    return settings


def escape(text: str) -> str:
    """Slack mrkdwn control characters (api.slack.com/reference/surfaces/formatting)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str, text: str) -> str:
    return f"<{escape(url).replace('|', '%7C')}|{escape(text)}>"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _emoji(message: Message) -> str:
    if message.kind == "acknowledge":
        return "👀"
    if message.status == "resolved":
        return "✅"
    worst = max((a.severity for a in message.firing), key=_rank, default="warning")
    return EMOJI.get(worst, "🟡")


def _rank(severity: str) -> int:
    order = ["info", "warning", "error", "critical"]
    return order.index(severity) if severity in order else 1


def _alert_section(alert: AlertView) -> dict[str, Any]:
    state = "acknowledged by " + alert.acknowledged_by if alert.acknowledged_by else alert.status
    lines = [f"*{escape(alert.name)}* · `{alert.severity}` · {escape(state)}"]
    lines.append(escape(alert.summary))
    description = str(alert.annotations.get("description") or "")
    if description and description != alert.summary:
        lines.append(escape(description))
    labels = "  ".join(f"*{escape(k)}:* {escape(v)}" for k, v in sorted(alert.labels.items()))
    lines.append(labels)
    lines.append(f"*Started* {alert.starts_at}")
    links = [_link(link["url"], link["text"]) for link in alert.links()]
    if links:
        lines.append(" · ".join(links))
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _cut("\n".join(lines), MAX_SECTION_CHARS)},
    }


def _actions(alert: AlertView) -> dict[str, Any] | None:
    buttons = []
    for label, url, style in (
        ("Acknowledge", alert.ack_url, "primary"),
        ("Resolve", alert.resolve_url, None),
    ):
        if (
            url
            and alert.status == "firing"
            and not (label == "Acknowledge" and alert.acknowledged_by)
        ):
            button: dict[str, Any] = {
                "type": "button",
                "text": {"type": "plain_text", "text": label},
                "url": url,
                "action_id": f"{label.lower()}-{alert.fingerprint}"[:255],
            }
            if style:
                button["style"] = style
            buttons.append(button)
    return {"type": "actions", "elements": buttons} if buttons else None


def render(message: Message) -> dict[str, Any]:
    """The webhook body: fallback `text` plus Block Kit `blocks`."""
    title = message.title()
    header = _cut(f"{_emoji(message)} {title}", MAX_HEADER_CHARS)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header}}
    ]
    for alert in message.alerts[:MAX_ALERTS_SHOWN]:
        blocks.append(_alert_section(alert))
        actions = _actions(alert)
        if actions:
            blocks.append(actions)
    footer = [f"receiver `{escape(message.receiver)}`", f"group `{escape(message.group_key)}`"]
    if len(message.alerts) > MAX_ALERTS_SHOWN:
        footer.insert(0, f"…and {len(message.alerts) - MAX_ALERTS_SHOWN} more alerts")
    if message.incident_url:
        footer.append(_link(message.incident_url, f"incident #{message.incident_id}"))
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": _cut(" · ".join(footer), MAX_SECTION_CHARS)}],
        }
    )
    summary = message.alerts[0].summary if len(message.alerts) == 1 else ""
    text = f"{title}: {summary}" if summary else title
    return {
        "text": _cut(escape(text), MAX_SECTION_CHARS),
        "blocks": blocks[:MAX_BLOCKS],
        "unfurl_links": False,
        "unfurl_media": False,
    }


class SlackNotifier(Notifier):
    kind = KIND

    def request(self, message: Message) -> HttpRequest:
        url = self.secret("url")
        body = json.dumps(render(message), ensure_ascii=False).encode()
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        return HttpRequest(url, headers, body, tuple(self._secrets))


NOTIFIER = SlackNotifier
