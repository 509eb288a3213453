"""Notification channels, one module each: Slack, PagerDuty, email, SMS, generic webhook.

`CHANNELS` maps a channel kind to its module's `Notifier` class and `parse_settings`; the
configuration (receivers' integrations) and the delivery loop look channels up here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from alerting.channels import email, pagerduty, slack, sms, webhook
from alerting.channels.base import Notifier
from alerting.problems import Problems


@dataclass(frozen=True)
class Channel:
    kind: str
    notifier: type[Notifier]
    parse_settings: Callable[[Mapping[str, Any], Problems], dict[str, Any]]
    secret_fields: tuple[str, ...]


CHANNELS: dict[str, Channel] = {
    module.KIND: Channel(module.KIND, module.NOTIFIER, module.parse_settings, module.SECRET_FIELDS)
    for module in (slack, pagerduty, email, sms, webhook)
}
