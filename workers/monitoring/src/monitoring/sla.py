"""Monthly SLA report: which month, and the same rows as CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

COLUMNS = (
    "check_id", "name", "slo_target_pct", "uptime_pct", "met", "monitored_s", "downtime_s",
    "maintenance_s", "incidents", "longest_incident_s", "allowed_downtime_s",
)  # fmt: skip
_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


def month_bounds(month: str | None, now_ms: int) -> tuple[str, int, int]:
    """`("2026-01", start_ms, end_ms)` of a `YYYY-MM` month (default: the current one)."""
    if month is None:
        today = datetime.fromtimestamp(now_ms / 1000, UTC)
        year, number = today.year, today.month
    else:
        match = _MONTH.fullmatch(month.strip())
        if match is None:
            raise ValueError(f"month must be YYYY-MM, got {month[:20]!r}")
        year, number = int(match.group(1)), int(match.group(2))
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return f"{year:04d}-{number:02d}", int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def to_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if row[c] is None else _cell(row[c]) for c in COLUMNS])
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A cell starting with = + - @ is a formula to spreadsheets: defuse it (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
