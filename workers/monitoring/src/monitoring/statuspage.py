"""The public status page as HTML: a pure function of the status data (`reports.status_page`).

Self-contained (inline CSS, no script, no external asset) so it renders anywhere, and every
value is escaped. Each component shows its state and 90 daily uptime bars (hover for the day's
figures); below, open and recent incidents.
"""

from __future__ import annotations

from html import escape
from typing import Any

TITLE = "Pitchey status"
VERDICTS = {
    "operational": "All systems operational",
    "degraded": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "maintenance": "Scheduled maintenance",
}
LABELS = {
    "operational": "Operational", "degraded": "Degraded", "down": "Down",
    "maintenance": "Maintenance", "paused": "Paused", "unknown": "No data yet",
}  # fmt: skip
CSS = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1b1f24}
h1{font-size:1.5rem}.banner{padding:1rem;border-radius:.5rem;color:#fff;font-weight:600}
.operational{background:#1f883d}.degraded,.maintenance{background:#bf8700}
.partial_outage{background:#d1242f}.major_outage{background:#82071e}
.component{border-bottom:1px solid #d0d7de;padding:.75rem 0}
.row{display:flex;justify-content:space-between}
.bars{display:flex;gap:1px;margin-top:.4rem}.bar{flex:1;height:2rem;border-radius:1px}
.b-full{background:#1f883d}.b-minor{background:#bf8700}
.b-major{background:#d1242f}.b-none{background:#d0d7de}
.s-operational{color:#1f883d}.s-degraded,.s-maintenance{color:#bf8700}.s-down{color:#d1242f}
small{color:#59636e}li{margin:.3rem 0}
"""


def _bar_class(uptime: float | None) -> str:
    if uptime is None:
        return "b-none"
    return "b-full" if uptime >= 99.9 else "b-minor" if uptime >= 99.0 else "b-major"


def _bar(day: dict[str, Any]) -> str:
    pct = day["uptime_pct"]
    shown = "no data" if pct is None else f"{pct:.2f}% uptime, {day['incidents']} incident(s)"
    tip = escape(f"{day['date']}: {shown}")
    return f'<div class="bar {_bar_class(pct)}" title="{tip}"></div>'


def _component(component: dict[str, Any]) -> str:
    status = component["status"]
    uptime = component["uptime_90d_pct"]
    figure = "" if uptime is None else f"<small>{uptime:.3f}% uptime, 90 days</small>"
    bars = "".join(_bar(day) for day in component["days"])
    return (
        f'<div class="component" id="{escape(component["id"])}"><div class="row">'
        f"<strong>{escape(component['name'])}</strong>"
        f'<span class="s-{escape(status)}">{escape(LABELS.get(status, status))}</span></div>'
        f'<div class="bars" aria-label="90-day uptime">{bars}</div>{figure}</div>'
    )


def _incident(incident: dict[str, Any]) -> str:
    ended = incident["ended_at"]
    span = "ongoing" if ended is None else f"resolved {escape(ended)}"
    minutes = incident["duration_s"] / 60
    return (
        f"<li><strong>{escape(incident['check_name'])}</strong> down since "
        f"{escape(incident['started_at'])} ({span}, {minutes:.1f} min)</li>"
    )


def render(data: dict[str, Any]) -> str:
    groups: dict[str, list[str]] = {}
    for component in data["components"]:
        groups.setdefault(component["group"], []).append(_component(component))
    sections = "".join(
        f"<section><h2>{escape(group)}</h2>{''.join(items)}</section>"
        for group, items in groups.items()
    )
    open_items = [i for i in data["incidents"] if i["open"]]
    past_items = [i for i in data["incidents"] if not i["open"]]
    incidents = (
        "<section><h2>Open incidents</h2>"
        + ("<ul>" + "".join(map(_incident, open_items)) + "</ul>" if open_items else "<p>None.</p>")
        + "<h2>Past incidents (14 days)</h2>"
        + ("<ul>" + "".join(map(_incident, past_items)) + "</ul>" if past_items else "<p>None.</p>")
        + "</section>"
    )
    verdict = data["status"]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{TITLE}</title><style>{CSS}</style></head><body>"
        f"<h1>{TITLE}</h1>"
        f'<div class="banner {escape(verdict)}">{escape(VERDICTS.get(verdict, verdict))}</div>'
        f"{sections}{incidents}"
        f"<p><small>Updated {escape(data['updated_at'])}. "
        f'<a href="status.json">JSON</a></small></p></body></html>'
    )
