"""The dashboard's overview: this Worker's own numbers plus the key numbers of the other five,
gathered over their `snapshot()` RPCs (obs_schema.snapshots).

A Worker that is missing, slow or without `snapshot()` yet is reported as unavailable and its
numbers as null: the summary never fails because one source did.
"""

from __future__ import annotations

import asyncio
from typing import Any

from monitoring import control, views

SOURCES = {
    "logs": "LOGS",
    "apm": "APM",
    "infra": "INFRA",
    "alerting": "ALERTING",
    "security": "SECURITY",
}
TIMEOUT_S = 5.0
# (key in the summary, Worker, key in that Worker's snapshot)
KEY_NUMBERS = (
    ("error_rate_5m", "apm", "error_rate_5m"),
    ("p95_ms_5m", "apm", "p95_ms_5m"),
    ("requests_5m", "apm", "requests_5m"),
    ("log_errors_5m", "logs", "errors_5m"),
    ("security_blocks_active", "security", "blocks_active"),
    ("security_threats_5m", "security", "threats_5m"),
    ("infra_anomalies_active", "infra", "anomalies_active"),
    ("alerts_firing", "alerting", "firing"),
)


async def _snapshot(env: Any, worker: str) -> dict[str, Any]:
    binding = getattr(env, SOURCES[worker], None)
    if binding is None:
        return {"available": False, "error": "no service binding", "snapshot": {}}
    try:
        found = await asyncio.wait_for(binding.snapshot(), TIMEOUT_S)
    except TimeoutError:
        return {"available": False, "error": "timed out", "snapshot": {}}
    except Exception as error:
        return {"available": False, "error": f"{type(error).__name__}", "snapshot": {}}
    if not isinstance(found, dict):
        return {"available": False, "error": "snapshot() returned no object", "snapshot": {}}
    return {"available": True, "error": None, "snapshot": dict(found)}


async def gather(env: Any, now: int) -> dict[str, Any]:
    registry = control.registry(env)
    own: dict[str, Any] = await registry.snapshot(now)
    records = await registry.list()
    by_status: dict[str, int] = {}
    for record in records:
        status = (record.get("board") or {}).get("status", "pending")
        by_status[status] = by_status.get(status, 0) + 1
    found = await asyncio.gather(*(_snapshot(env, w) for w in SOURCES))
    others = dict(zip(SOURCES, found, strict=True))
    numbers = {key: others[w]["snapshot"].get(field) for key, w, field in KEY_NUMBERS}
    return {
        "generated_at": views.when(now),
        "generated_ms": now,
        "monitoring": {**own, "by_status": by_status},
        "key_numbers": numbers,
        "workers": others,
    }
