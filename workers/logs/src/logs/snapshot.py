"""The `snapshot()` RPC: this Worker's key numbers for the monitoring and alerting Workers."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from logs.ingestion import store_for
from logs.settings import settings_for
from obs_schema.snapshots import LogsSnapshot

WINDOW_MS = 5 * 60_000
ERROR = 5


async def snapshot(env: Any, now_ms: int) -> LogsSnapshot:
    rows = await store_for(env, settings_for(env)).stats(now_ms - WINDOW_MS, now_ms)
    records = errors = 0
    by_service: dict[str, int] = defaultdict(int)
    for minute, level, service, count in rows:
        if minute * 60000 < now_ms - WINDOW_MS:
            continue
        records += count
        if level >= ERROR:
            errors += count
            by_service[service] += count
    return {"records_5m": records, "errors_5m": errors, "errors_by_service_5m": dict(by_service)}
