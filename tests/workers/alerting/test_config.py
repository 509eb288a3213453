"""The configuration document: validated as a whole, references checked, secrets redacted."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from alerting import config
from alerting.channels.base import SecretRef
from alerting.problems import Invalid

DOCUMENT: dict[str, Any] = {
    "global": {
        "resolve_timeout": "10m",
        "external_url": "https://obs.pitchey.com/",
        "email": {
            "url": "https://mail.example.com/v3/mail/send",
            "api_key": "SG.literal",
            "from": "a@pitchey.com",
        },
        "delivery": {"max_attempts": 4, "backoff": "2s", "timeout": "5s"},
    },
    "route": {
        "receiver": "team",
        "routes": [
            {"matchers": ['severity="critical"'], "receiver": "pager", "escalation": "critical"}
        ],
    },
    "receivers": [
        {"name": "team", "slack_configs": [{"url": "https://hooks.slack.com/services/T/B/SECRET"}]},
        {"name": "pager", "pagerduty_configs": [{"routing_key": {"secret": "OBS_PD_KEY"}}]},
    ],
    "people": [{"name": "alice", "email": "alice@pitchey.com", "phone": "+15551230001"}],
    "schedules": [
        {
            "name": "primary",
            "rotation": {"users": ["alice"], "start": "2026-03-02T09:00:00Z", "shift": "7d"},
        }
    ],
    "escalation_policies": [
        {
            "name": "critical",
            "levels": [
                {"targets": [{"receiver": "pager"}]},
                {"delay": "15m", "targets": [{"schedule": "primary"}, {"person": "alice"}]},
            ],
        }
    ],
}


def test_a_full_document_parses_into_its_parts() -> None:
    parsed = config.parse(DOCUMENT)
    assert parsed.route.routes[0].escalation == "critical"
    assert parsed.resolve_timeout_ms == 600_000
    assert parsed.external_url == "https://obs.pitchey.com"
    assert (
        parsed.delivery.backoff.max_attempts,
        parsed.delivery.backoff.base_ms,
        parsed.delivery.timeout_ms,
    ) == (4, 2000, 5000)
    [pager] = parsed.receivers["pager"]
    assert (pager.key, pager.settings["routing_key"], pager.settings["send_resolved"]) == (
        "pager/pagerduty/0",
        SecretRef("OBS_PD_KEY"),
        True,
    )
    assert (
        parsed.integration("team/slack/0") is not None
        and parsed.integration("team/slack/1") is None
    )


def test_literal_secrets_read_back_redacted_and_survive_being_sent_back() -> None:
    parsed = config.parse(DOCUMENT)
    shown = parsed.redacted()
    assert shown["receivers"][0]["slack_configs"][0]["url"] == "<redacted>"
    assert shown["receivers"][1]["pagerduty_configs"][0]["routing_key"] == {"secret": "OBS_PD_KEY"}
    assert shown["global"]["email"]["api_key"] == "<redacted>"
    again = config.parse(shown, previous=parsed.document)
    assert again.document == parsed.document
    # A redacted value with nothing stored behind it is an error, not an empty secret.
    with pytest.raises(Invalid, match="redacted"):
        config.parse(shown)


def bad(change: dict[str, Any]) -> set[str]:
    document = copy.deepcopy(DOCUMENT)
    for path, value in change.items():
        *parents, last = path.split(".")
        node: Any = document
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value
    with pytest.raises(Invalid) as caught:
        config.parse(document)
    return {".".join(d["loc"]) + ": " + d["message"] for d in caught.value.details}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"route.receiver": "nobody"}, "route.receiver: no receiver is named 'nobody'"),
        (
            {"route.routes.0.escalation": "none"},
            "route.routes.0.escalation: no escalation policy is named 'none'",
        ),
        (
            {"receivers.1.name": "team"},
            "receivers.1.name: a receiver with this name already exists",
        ),
        (
            {"receivers.0.slack_configs.0.url": {"secret": "OBS_ADMIN_TOKEN"}},
            "receivers.0.slack_configs.0.url: "
            "url: OBS_ADMIN_TOKEN is one of the stack's own secrets",
        ),
        (
            {"receivers.1.pagerduty_configs.0.routing_key": "short"},
            "receivers.1.pagerduty_configs.0.routing_key: "
            "a PagerDuty integration key has 32 characters",
        ),
        ({"people.0.phone": "555-1234"}, "people.0.phone: must be an E.164 phone number"),
        (
            {"route.routes.0.active_time_intervals": ["office"]},
            "route.routes.0.active_time_intervals: no time interval is named 'office'",
        ),
        (
            {"route.mute_time_intervals": ["night"]},
            "route.mute_time_intervals: the root route cannot have time intervals",
        ),
        (
            {"global.delivery.max_attempts": 0},
            "global.delivery.max_attempts: must be a whole number from 1 to 20",
        ),
        (
            {"global.colour": "blue"},
            "global.colour: unknown field; "
            "expected one of delivery, email, external_url, resolve_timeout, sms",
        ),
        (
            {"escalation_policies.0.levels.1.targets.1.person": "zed"},
            "escalation_policies: policy 'critical' level 2 names an unknown person 'zed'",
        ),
    ],
)
def test_each_mistake_is_reported_where_it_is(change: dict[str, Any], expected: str) -> None:
    assert expected in bad(change)


def test_every_mistake_is_reported_at_once() -> None:
    problems = bad(
        {"route.receiver": "nobody", "people.0.phone": "x", "global.resolve_timeout": "soon"}
    )
    assert len(problems) == 3
