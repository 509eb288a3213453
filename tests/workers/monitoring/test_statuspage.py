"""The status page HTML: verdict, components with 90 bars, incidents, and escaping."""

from __future__ import annotations

from typing import Any

from monitoring import statuspage

DAY = {"date": "2026-03-02", "uptime_pct": 98.5, "downtime_s": 1296.0, "incidents": 1}


def data(**overrides: Any) -> dict[str, Any]:
    component = {
        "id": "api", "name": "API <v2>", "group": "Pitchey", "status": "down",
        "uptime_90d_pct": 99.95, "days": [{**DAY, "uptime_pct": None}] * 89 + [DAY],
    }  # fmt: skip
    incident = {
        "check_name": "API <v2>", "started_at": "2026-03-02T10:00:00.000Z", "ended_at": None,
        "open": True, "duration_s": 90.0,
    }  # fmt: skip
    base = {"status": "partial_outage", "updated_at": "2026-03-02T10:01:30.000Z",
            "components": [component], "incidents": [incident]}  # fmt: skip
    return {**base, **overrides}


def test_the_page_shows_verdict_bars_and_incidents_escaped() -> None:
    page = statuspage.render(data())
    assert '<div class="banner partial_outage">Partial outage</div>' in page
    assert "API &lt;v2&gt;" in page and "API <v2>" not in page
    assert page.count('class="bar b-none"') == 89 and page.count('class="bar b-major"') == 1
    assert 'title="2026-03-02: 98.50% uptime, 1 incident(s)"' in page
    assert "down since 2026-03-02T10:00:00.000Z (ongoing, 1.5 min)" in page
    assert "99.950% uptime, 90 days" in page


def test_a_quiet_page_says_so() -> None:
    page = statuspage.render(data(status="operational", incidents=[]))
    assert "All systems operational" in page and page.count("<p>None.</p>") == 2
