"""Request and response shapes the routes declare (for validation and the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Rejection(BaseModel):
    index: int = Field(description="Position of the event in the request.")
    error: str = Field(description="What is wrong with it (the value is never echoed).")


class IngestResult(BaseModel):
    accepted: int
    rejected: list[Rejection] = Field(default_factory=list)


class Action(BaseModel):
    """Who acts, and why (both optional)."""

    by: str = Field(default="", max_length=256, description="Who; defaults to the token's scope.")
    note: str = Field(default="", max_length=4096)


class Note(BaseModel):
    text: str = Field(min_length=1, max_length=16 * 1024)
    by: str = Field(default="", max_length=256)


class AlertPage(BaseModel):
    alerts: list[dict[str, Any]]
    next_cursor: str | None = None


class SilenceCreated(BaseModel):
    silenceID: str
    silence: dict[str, Any]


EVENT_EXAMPLE: dict[str, Any] = {
    "name": "HighErrorRate",
    "severity": "critical",
    "labels": {"service": "api"},
    "annotations": {"summary": "5xx above 5% for 5 minutes"},
    "source": "apm",
    "status": "firing",
}
SILENCE_EXAMPLE: dict[str, Any] = {
    "matchers": [{"name": "service", "value": "api", "isRegex": False, "isEqual": True}],
    "startsAt": "now",
    "endsAt": "now+2h",
    "createdBy": "ops@pitchey.com",
    "comment": "deploy window",
}
CONFIG_EXAMPLE: dict[str, Any] = {
    "global": {"resolve_timeout": "5m"},
    "route": {
        "receiver": "team-slack",
        "group_by": ["alertname", "service"],
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "4h",
        "routes": [
            {"matchers": ['severity="critical"'], "receiver": "pager", "escalation": "critical"}
        ],
    },
    "receivers": [
        {"name": "team-slack", "slack_configs": [{"url": {"secret": "OBS_SLACK_WEBHOOK_URL"}}]},
        {"name": "pager", "pagerduty_configs": [{"routing_key": {"secret": "OBS_PAGERDUTY_KEY"}}]},
    ],
    "inhibit_rules": [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["service"],
        }
    ],
    "escalation_policies": [
        {"name": "critical", "levels": [{"delay": "0s", "targets": [{"receiver": "pager"}]}]}
    ],
}
RULES_EXAMPLE: dict[str, Any] = {
    "rules": [
        {
            "name": "ServiceErrorRate",
            "kind": "threshold",
            "metric": "apm.by_service_5m.*.error_rate",
            "op": ">",
            "threshold": 0.05,
            "for": "5m",
            "severity": "critical",
            "annotations": {"summary": "{service} error rate {value} > {threshold}"},
        }
    ]
}
