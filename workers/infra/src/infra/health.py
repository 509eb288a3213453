"""`/infra/health` detail: each resource class's key numbers over the last 5 minutes.

Classes: Workers (invocations, 5xx rate, p95 wall time), KV, R2 and Durable Objects (calls, error
rate, p95 latency, from binding telemetry), and rate limiting (from the security Worker's
`snapshot()`, when it is deployed). A class is `degraded` while one of its series has an active
anomaly or its error rate passes 5%; `unknown` when nothing was observed. The Worker's own
health (its bindings) stays the shared report's business: this detail can degrade the status,
never make it a 503.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from infra import store
from obs_schema import host

WINDOW_MS = 5 * 60_000
ERROR_RATE = 0.05
CLASSES = {"kv": "kv", "r2": "r2", "do": "durable_objects"}
SECURITY = "SECURITY"
RPC_TIMEOUT_S = 2.0


async def details(env: Any) -> dict[str, Any]:
    now_ms = host.now_ms()
    calls, latency, invocations, wall, anomalies, limiting = await asyncio.gather(
        _summary(env, "binding_operations_total", now_ms, "sum", ["class", "outcome"]),
        _summary(env, "binding_operation_duration_seconds", now_ms, "p95", ["class"]),
        _summary(env, "worker_invocations_total", now_ms, "sum", ["status"]),
        _summary(env, "worker_invocation_duration_seconds", now_ms, "p95", []),
        _active_anomalies(env, now_ms),
        rate_limiting(env),
    )
    resources: dict[str, Any] = {"workers": _workers(invocations, wall, anomalies)}
    for kind, name in CLASSES.items():
        resources[name] = _storage(kind, calls, latency, anomalies)
    resources["rate_limiting"] = limiting
    worst = "degraded" if any(r["status"] == "degraded" for r in resources.values()) else "healthy"
    return {"status": worst, "resources": resources}


async def _summary(
    env: Any, metric: str, now_ms: int, fn: str, by: list[str]
) -> list[dict[str, Any]]:
    spec = {
        "metric": metric, "matchers": [], "fn": fn, "by": by, "align": False,
        "start_ms": now_ms - WINDOW_MS + 60_000, "end_ms": now_ms, "step_s": WINDOW_MS // 1000,
    }  # fmt: skip
    result = await store.query(env, spec, now_ms)
    return [] if "error" in result else list(result["series"])


async def _active_anomalies(env: Any, now_ms: int) -> list[dict[str, Any]]:
    found = await store.each(env, "anomalies", "active", now_ms - 86_400_000, None, 200)
    return [row for part in found for row in part]


def _last(series: Mapping[str, Any]) -> float:
    values = [v for v in series["values"] if v is not None]
    return float(values[-1]) if values else 0.0


def _storage(
    kind: str,
    calls: list[dict[str, Any]],
    latency: list[dict[str, Any]],
    anomalies: list[dict[str, Any]],
) -> dict[str, Any]:
    mine = [s for s in calls if s["labels"].get("class") == kind]
    total = sum(_last(s) for s in mine)
    errors = sum(_last(s) for s in mine if s["labels"].get("outcome") == "error")
    p95 = next((s["values"][-1] for s in latency if s["labels"].get("class") == kind), None)
    related = [a for a in anomalies if json.loads(a["labels"]).get("class") == kind]
    return _verdict(
        {"calls_5m": int(total), "error_rate_5m": _rate(errors, total),
         "p95_ms_5m": _ms(p95)},
        total, errors, related,
    )  # fmt: skip


def _workers(
    invocations: list[dict[str, Any]], wall: list[dict[str, Any]], anomalies: list[dict[str, Any]]
) -> dict[str, Any]:
    total = sum(_last(s) for s in invocations)
    errors = sum(_last(s) for s in invocations if s["labels"].get("status") == "5xx")
    p95 = wall[0]["values"][-1] if wall else None
    related = [a for a in anomalies if a["metric"].startswith("worker_")]
    return _verdict(
        {"invocations_5m": int(total), "error_rate_5m": _rate(errors, total),
         "p95_ms_5m": _ms(p95)},
        total, errors, related,
    )  # fmt: skip


def _verdict(
    numbers: dict[str, Any], total: float, errors: float, related: list[dict[str, Any]]
) -> dict[str, Any]:
    if related or (total and errors / total > ERROR_RATE):
        status = "degraded"
    else:
        status = "healthy" if total else "unknown"
    summaries = [str(a["explanation"]) for a in related[:5]]
    return {"status": status, **numbers, "anomalies": summaries}


async def rate_limiting(env: Any) -> dict[str, Any]:
    """The security Worker's view of rate limiting, if it is reachable."""
    binding = getattr(env, SECURITY, None)
    if binding is None:
        return {"status": "unknown", "detail": "no SECURITY service binding"}
    try:
        snapshot = await asyncio.wait_for(binding.snapshot(), RPC_TIMEOUT_S)
    except Exception as error:
        return {
            "status": "unknown",
            "detail": f"security snapshot unavailable: {type(error).__name__}",
        }
    if not isinstance(snapshot, Mapping):
        return {"status": "unknown", "detail": "security snapshot is not an object"}
    limited = snapshot.get("rate_limited_5m")
    return {
        "status": "healthy",
        "rate_limited_5m": limited,
        "blocks_active": snapshot.get("blocks_active"),
        "events_5m": snapshot.get("events_5m"),
    }


def _rate(errors: float, total: float) -> float | None:
    return round(errors / total, 4) if total else None


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)
