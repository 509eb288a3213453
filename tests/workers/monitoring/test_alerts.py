"""State changes become AlertEvents with the error, latency and last good time."""

from __future__ import annotations

from monitoring.alerts import build, duration_text
from monitoring.state import Change, ChangeKind

SPEC = {"id": "api", "name": "Pitchey API", "type": "http", "labels": {"team": "web"}}
T0 = 1_772_409_600_000


def test_a_down_alert_carries_the_facts() -> None:
    change = Change(ChangeKind.DOWN, T0 + 125_000, T0 + 120_000, "HTTP 503", 12.5, T0 + 60_000)
    event = build(SPEC, change)
    assert {k: event[k] for k in ("name", "severity", "status", "source", "starts_at")} == {
        "name": "CheckDown", "severity": "critical", "status": "firing", "source": "monitoring",
        "starts_at": "2026-03-02T00:02:00.000Z",
    }  # fmt: skip
    assert event["labels"] == {"team": "web", "check": "api", "check_type": "http"}
    assert event["annotations"] == {
        "summary": "Pitchey API is down",
        "description": "error: HTTP 503\nlatency ms: 12.5\nlast good: 2026-03-02T00:01:00.000Z\n"
        "since: 2026-03-02T00:02:00.000Z\ncheck id: api",
        "error": "HTTP 503", "latency_ms": "12.5", "last_good": "2026-03-02T00:01:00.000Z",
        "since": "2026-03-02T00:02:00.000Z", "check_id": "api", "links": [], "runbook_url": None,
    }  # fmt: skip


def test_resolutions_share_the_fingerprint_and_heartbeats_have_their_own_name() -> None:
    down = build(SPEC, Change(ChangeKind.DOWN, T0, T0, "x", None, None))
    back = build(SPEC, Change(ChangeKind.RECOVERED, T0 + 3_723_000, T0, "x", 9.0, T0))
    assert back["fingerprint"] == down["fingerprint"] and back["status"] == "resolved"
    assert back["ends_at"] == "2026-03-02T01:02:03.000Z"
    assert back["annotations"]["summary"] == "Pitchey API is back up after 1h 2m 3s"
    late = Change(ChangeKind.DOWN, T0, T0, "late", None, None)
    assert (
        build({**SPEC, "type": "heartbeat"}, late, "heartbeat_missed")["name"] == "HeartbeatMissed"
    )
    assert build({**SPEC, "type": "heartbeat"}, late, "job_failed")["name"] == "JobFailed"
    slow = build(SPEC, Change(ChangeKind.DEGRADED, T0, T0, None, 900.0, T0))
    assert (slow["name"], slow["severity"]) == ("CheckDegraded", "warning")
    assert duration_text(0) == "0s" and duration_text(61_000) == "1m 1s"
