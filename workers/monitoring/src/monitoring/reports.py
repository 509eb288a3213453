"""Uptime, status page data, SLA months and the snapshot, computed in the registry from its
checks, board and incidents (plain data in, plain data out)."""

from __future__ import annotations

from typing import Any

from monitoring import views
from monitoring.maintenance import DAY_MS
from monitoring.registry import RegistryCore
from monitoring.uptime import STANDARD_WINDOWS, Availability, combined

STATUS_DAYS = 90
RECENT_INCIDENT_DAYS = 14


def uptime(
    core: RegistryCore, check_ids: list[str] | None, windows: dict[str, int], now: int
) -> dict[str, Any]:
    """Per check and overall uptime for each named window (label -> ms)."""
    rows: list[dict[str, Any]] = []
    per_window: dict[str, list[Availability]] = {label: [] for label in windows}
    for check_id, (record, history) in core.histories(now - max(windows.values())).items():
        if check_ids is not None and check_id not in check_ids:
            continue
        figures = {}
        for label, span in windows.items():
            availability = history.trailing(span, now)
            per_window[label].append(availability)
            figures[label] = availability.to_dict()
        rows.append({"id": check_id, "name": record["spec"]["name"], "windows": figures})
    overall = {label: combined(parts) for label, parts in per_window.items()}
    return {"checks": rows, "overall_uptime_pct": overall}


def snapshot(core: RegistryCore, now: int) -> dict[str, Any]:
    """The MonitoringSnapshot contract (obs_schema.snapshots)."""
    checks = core.histories(now - DAY_MS).values()
    statuses = [(record.get("board") or {}).get("status") for record, _ in checks]
    return {
        "checks": len(statuses),
        "down": statuses.count("down"),
        "open_incidents": core.open_incidents(),
        "uptime_24h": combined([history.trailing(DAY_MS, now) for _, history in checks]),
    }


def _display(board: dict[str, Any] | None, enabled: bool) -> str:
    """The status a visitor sees: operational, degraded, down, maintenance, paused, unknown."""
    status = (board or {}).get("status", "pending")
    if not enabled or status == "paused":
        return "paused"
    if (board or {}).get("in_maintenance"):
        return "maintenance"
    return {"up": "operational", "degraded": "degraded", "down": "down"}.get(status, "unknown")


def status_page(core: RegistryCore, now: int) -> dict[str, Any]:
    """Public status: components, 90 daily bars, open and recent incidents. Nothing internal
    (no URLs, no errors, no private checks)."""
    every = core.histories(now - STATUS_DAYS * DAY_MS).values()
    public = [(r, h) for r, h in every if r["spec"].get("public", True)]
    components = []
    for record, history in public:
        spec = record["spec"]
        bars = [
            {"date": views.when(day.start_ms)[:10], "uptime_pct": day.uptime_pct,  # type: ignore[index]
             "downtime_s": day.downtime_ms / 1000, "incidents": day.incidents}
            for day in history.daily(STATUS_DAYS, now)
        ]  # fmt: skip
        components.append({
            "id": spec["id"],
            "name": spec["name"],
            "group": spec.get("group") or "Services",
            "status": _display(record.get("board"), spec.get("enabled", True)),
            "uptime_90d_pct": history.trailing(STATUS_DAYS * DAY_MS, now).uptime_pct,
            "days": bars,
        })  # fmt: skip
    names = {r["spec"]["id"]: r["spec"]["name"] for r, _ in public}
    page = core.incidents(
        check_id=None, state=None, since=now - RECENT_INCIDENT_DAYS * DAY_MS, until=now + 1,
        limit=100, before=None,
    )  # fmt: skip
    incidents = [
        _public_incident(row, names, now) for row in page["incidents"] if row["check_id"] in names
    ]
    return {
        "status": overall(c["status"] for c in components),
        "updated_at": views.when(now),
        "components": components,
        "incidents": incidents,
    }


def _public_incident(row: dict[str, Any], names: dict[str, str], now: int) -> dict[str, Any]:
    shown = views.incident(row, names, now)
    shown.pop("first_error")  # internal detail stays internal
    return shown


def overall(statuses: Any) -> str:
    seen = set(statuses)
    for status, verdict in (
        ("down", "major_outage" if seen == {"down"} else "partial_outage"),
        ("degraded", "degraded"),
        ("maintenance", "maintenance"),
    ):
        if status in seen:
            return verdict
    return "operational"


def sla(core: RegistryCore, start: int, end: int, now: int) -> list[dict[str, Any]]:
    """One row per check for the month `[start, end)`."""
    rows = []
    for record in core.all():
        spec = record["spec"]
        history = core.history(spec["id"])
        assert history is not None
        figures = history.availability(start, end, now)
        page = core.incidents(check_id=spec["id"], state=None, since=start, until=end,
                              limit=10_000, before=None)  # fmt: skip
        longest = max(
            (
                min(r["ended_ms"] or now, end) - max(r["started_ms"], start)
                for r in page["incidents"]
            ),
            default=0,
        )
        target = float(spec.get("slo_target", 99.9))
        pct = figures.uptime_pct
        rows.append({
            "check_id": spec["id"],
            "name": spec["name"],
            "slo_target_pct": target,
            "uptime_pct": pct,
            "met": None if pct is None else pct >= target,
            "monitored_s": figures.monitored_ms / 1000,
            "downtime_s": figures.downtime_ms / 1000,
            "maintenance_s": figures.maintenance_ms / 1000,
            "incidents": figures.incidents,
            "longest_incident_s": max(0, longest) / 1000,
            "allowed_downtime_s": round(figures.monitored_ms * (100 - target) / 100) / 1000,
        })  # fmt: skip
    return rows


__all__ = ["STANDARD_WINDOWS", "sla", "snapshot", "status_page", "uptime"]
