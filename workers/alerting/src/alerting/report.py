"""Incident timeline links and the Markdown post-incident draft.

The draft is what an on-call engineer would otherwise assemble by hand: summary, duration,
time to acknowledge, affected services, the impact numbers the logs and APM Workers reported
(when the incident opened, and now), the alerts, the full timeline, links to the logs and
traces of the window, and the headings a review still has to fill in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from obs_schema.timespec import format_rfc3339, parse_instant

LEAD_MS = 15 * 60_000  # logs and traces from a little before the first alert


def _ms(text: str | None) -> int | None:
    return None if text is None else round(parse_instant(text, 0) * 1000)


def window(incident: Mapping[str, Any], now_ms: int) -> tuple[int, int]:
    opened = _ms(incident["opened_at"]) or now_ms
    closed = _ms(incident.get("resolved_at")) or now_ms
    return opened - LEAD_MS, closed


def links(incident: Mapping[str, Any], base_url: str, now_ms: int) -> dict[str, Any]:
    since, until = window(incident, now_ms)
    span = {"since": format_rfc3339(since / 1000), "until": format_rfc3339(until / 1000)}
    services = list(incident.get("services") or []) or [""]
    out: dict[str, Any] = {"window": span, "logs": [], "traces": []}
    for service in services:
        scope = {"service": service} if service else {}
        out["logs"].append(
            {
                "service": service or None,
                "url": f"{base_url}/logs/query?{urlencode({**scope, **span})}",
            }
        )
        errors = {**scope, **span, "level": "error"}
        out["logs"].append(
            {
                "service": service or None,
                "url": f"{base_url}/logs/query?{urlencode(errors)}",
                "errors_only": True,
            }
        )
        traces = {**scope, **span, "status": "error"}
        out["traces"].append(
            {"service": service or None, "url": f"{base_url}/apm/traces?{urlencode(traces)}"}
        )
    return out


def _duration(ms: int | None) -> str:
    if ms is None:
        return "ongoing"
    seconds = ms // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{seconds}s" if seconds or not (hours or minutes) else "",
    ]
    return " ".join(p for p in parts if p)


def _between(start: int | None, end: int | None) -> int | None:
    return None if start is None or end is None else end - start


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _number(value: object) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _impact_rows(impact: Mapping[str, Any]) -> list[str]:
    rows = []
    labels = {
        "apm.requests_5m": "requests (5 min)", "apm.error_rate_5m": "error rate (5 min)",
        "apm.p95_ms_5m": "p95 latency, ms (5 min)", "apm.p99_ms_5m": "p99 latency, ms (5 min)",
        "logs.errors_5m": "error logs (5 min)", "logs.records_5m": "log records (5 min)",
    }  # fmt: skip
    moments = [(name, impact.get(name) or {}) for name in ("at_open", "at_report")]
    for key, label in labels.items():
        source, field = key.split(".")
        values = [(m.get(source) or {}).get(field) for _, m in moments]
        if any(v is not None for v in values):
            rows.append(f"| {label} | {' | '.join(_number(v) for v in values)} |")
    for service in sorted({s for _, m in moments for s in (m.get("services") or {})}):
        for field in ("requests", "error_rate", "p95_ms", "log_errors"):
            values = [((m.get("services") or {}).get(service) or {}).get(field) for _, m in moments]
            if any(v is not None for v in values):
                rows.append(
                    f"| {_cell(service)}: {field} | {' | '.join(_number(v) for v in values)} |"
                )
    return rows


def markdown(incident: Mapping[str, Any], base_url: str, now_ms: int) -> str:
    opened, acked, resolved = (
        _ms(incident.get(k)) for k in ("opened_at", "acknowledged_at", "resolved_at")
    )
    lines = [f"# Incident #{incident['id']}: {incident['title']}", ""]
    lines += [
        f"- **Status:** {incident['status']}",
        f"- **Severity:** {incident['severity']}",
        f"- **Opened:** {incident['opened_at']}",
        f"- **Acknowledged:** {incident.get('acknowledged_at') or 'not acknowledged'}"
        + (f" by {incident['acknowledged_by']}" if incident.get("acknowledged_by") else ""),
        f"- **Resolved:** {incident.get('resolved_at') or 'not resolved'}",
        f"- **Duration:** {_duration(_between(opened, resolved))}",
        f"- **Time to acknowledge:** {_duration(_between(opened, acked))}",
        "",
        "## Affected services",
        "",
    ]
    services = incident.get("services") or []
    lines += [f"- {s}" for s in services] or ["- none named by the alerts' `service` label"]
    lines += ["", "## Impact", ""]
    impact_rows = _impact_rows(incident.get("impact") or {})
    if impact_rows:
        lines += ["| measure | when opened | now |", "|---|---|---|", *impact_rows]
    else:
        lines.append("No numbers were available from the logs and APM Workers.")
    lines += [
        "",
        "## Alerts",
        "",
        "| alert | severity | status | started | ended |",
        "|---|---|---|---|---|",
    ]
    for alert in incident.get("alert_details") or []:
        summary = (alert.get("annotations") or {}).get("summary") or ""
        name = f"{alert['name']}" + (f": {summary}" if summary else "")
        lines.append(
            f"| {_cell(name)} | {alert['severity']} | {alert['status']} "
            f"| {alert['starts_at']} | {alert.get('ends_at') or ''} |"
        )
    lines += ["", "## Timeline", "", "| time (UTC) | event | detail |", "|---|---|---|"]
    for event in incident.get("timeline") or []:
        lines.append(f"| {event['at']} | {event['kind']} | {_cell(event['text'])} |")
    found = links(incident, base_url, now_ms)
    lines += ["", "## Logs and traces", ""]
    for item in found["logs"] + found["traces"]:
        kind = (
            "traces"
            if "/apm/" in item["url"]
            else "error logs"
            if item.get("errors_only")
            else "logs"
        )
        lines.append(
            f"- [{kind}{' of ' + item['service'] if item['service'] else ''}]({item['url']})"
        )
    lines += [
        "",
        "## Root cause",
        "",
        "_To be written._",
        "",
        "## What went well, what did not",
        "",
        "_To be written._",
    ]
    lines += ["", "## Follow-up actions", "", "- [ ] _To be written._", ""]
    return "\n".join(lines)
