"""The Markdown draft's pieces: durations, impact rows, links of the window."""

from __future__ import annotations

from typing import Any

from alerting.report import links, markdown

INCIDENT: dict[str, Any] = {
    "id": 3,
    "title": "Down (service=api)",
    "status": "open",
    "severity": "critical",
    "services": ["api", "web"],
    "opened_at": "2026-03-02T09:00:00.000Z",
    "acknowledged_at": "2026-03-02T09:01:05.000Z",
    "acknowledged_by": "alice",
    "resolved_at": None,
    "impact": {"at_open": {"apm": {"error_rate_5m": 0.25}, "logs": {}, "services": {}}},
    "alert_details": [],
    "timeline": [{"at": "2026-03-02T09:00:00.000Z", "kind": "fired", "text": "Down | fired\\n"}],
}
NOW = 1_772_442_600_000  # 09:10


def test_links_cover_each_service_from_fifteen_minutes_before_until_now() -> None:
    found = links(INCIDENT, "https://obs.pitchey.com", NOW)
    assert found["window"] == {
        "since": "2026-03-02T08:45:00.000Z",
        "until": "2026-03-02T09:10:00.000Z",
    }
    assert [item["service"] for item in found["logs"]] == ["api", "api", "web", "web"]
    assert found["traces"][1]["url"] == (
        "https://obs.pitchey.com/apm/traces?service=web&since=2026-03-02T08%3A45%3A00.000Z"
        "&until=2026-03-02T09%3A10%3A00.000Z&status=error"
    )


def test_the_draft_states_what_is_known_and_escapes_table_cells() -> None:
    lines = markdown(INCIDENT, "https://obs.pitchey.com", NOW).splitlines()
    assert "- **Duration:** ongoing" in lines
    assert "- **Time to acknowledge:** 1m 5s" in lines
    assert "- **Acknowledged:** 2026-03-02T09:01:05.000Z by alice" in lines
    assert "| error rate (5 min) | 0.25 | unknown |" in lines
    assert "| 2026-03-02T09:00:00.000Z | fired | Down \\| fired\\n |" in lines
