"""`snapshot()` RPC: the infra Worker's key numbers (obs_schema.snapshots.InfraSnapshot)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from infra import jobs, store
from obs_schema.snapshots import InfraSnapshot

WINDOW_MS = 300_000


async def snapshot(env: Any, now_ms: int) -> InfraSnapshot:
    active, latency, warnings = await asyncio.gather(
        store.each(env, "anomalies", "active", now_ms - 86_400_000, None, 1000),
        store.query(env, _kv_p95(now_ms), now_ms),
        _warnings(env),
    )
    p95 = None
    if "error" not in latency and latency["series"]:
        value = latency["series"][0]["values"][-1]
        p95 = None if value is None else round(value * 1000, 3)
    return {
        "anomalies_active": sum(len(part) for part in active),
        "capacity_warnings": warnings,
        "kv_p95_ms_5m": p95,
    }


def _kv_p95(now_ms: int) -> dict[str, Any]:
    return {
        "metric": "binding_operation_duration_seconds", "matchers": [["class", "=", "kv"]],
        "fn": "p95", "by": [], "align": False, "start_ms": now_ms - WINDOW_MS + 60_000,
        "end_ms": now_ms, "step_s": WINDOW_MS // 1000,
    }  # fmt: skip


async def _warnings(env: Any) -> int:
    kv = getattr(env, "CONFIG", None)
    raw = await kv.get(jobs.WARNINGS_KEY) if kv is not None else None
    return len(json.loads(raw)) if raw else 0
