"""The channel-neutral message: titles, common labels, and its stored form."""

from __future__ import annotations

from alerting.message import ZERO_TIME, AlertView, Message


def alert(fp: str, status: str, **labels: str) -> AlertView:
    return AlertView(
        fp,
        "Down",
        status,
        "critical",
        {"alertname": "Down", **labels},
        {"summary": "s"},
        0,
        ends_ms=60_000,
    )


def test_titles_follow_alertmanagers_default() -> None:
    both = Message(
        "r", "firing", "k", {"service": "api"}, (alert("a", "firing"), alert("b", "resolved")), "x"
    )
    assert both.title() == "[FIRING:1] api"
    assert (
        Message("r", "resolved", "k", {}, (alert("b", "resolved"),), "x").title()
        == "[RESOLVED:1] Down"
    )
    escalated = Message(
        "r", "firing", "k", {}, (alert("a", "firing"),), "x", kind="escalation", escalation_level=1
    )
    assert escalated.title() == "[ESCALATED L2:1] Down"


def test_common_labels_and_zero_end_time_and_round_trip() -> None:
    message = Message(
        "r",
        "firing",
        "k",
        {},
        (alert("a", "firing", env="prod", zone="a"), alert("b", "resolved", env="prod", zone="b")),
        "x",
    )
    assert message.common_labels() == {"alertname": "Down", "env": "prod"}
    assert (message.alerts[0].ends_at, message.alerts[1].ends_at) == (
        ZERO_TIME,
        "1970-01-01T00:01:00.000Z",
    )
    assert Message.from_dict(message.to_dict()) == message
