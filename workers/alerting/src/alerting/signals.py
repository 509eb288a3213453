"""The other Workers' numbers: their `snapshot()` RPCs, gathered for rules and incident reports.

Each Worker is asked over its service binding, with a time limit; one that is missing, slow or
failing is left out (and named in `available`'s absence) rather than failing the whole cycle,
so Workers can be deployed one at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

WORKERS = {
    "monitoring": "MONITORING",
    "logs": "LOGS",
    "apm": "APM",
    "infra": "INFRA",
    "security": "SECURITY",
}
TIMEOUT_S = 5.0
log = logging.getLogger("obs.alerting.signals")


async def _one(env: Any, binding: str) -> dict[str, Any] | None:
    target = getattr(env, binding, None)
    if target is None:
        return None
    try:
        result = await asyncio.wait_for(target.snapshot(), TIMEOUT_S)
    except Exception as error:  # one Worker's failure is that Worker's absence, nothing more
        log.warning("snapshot() of %s failed: %s", binding, type(error).__name__)
        return None
    return dict(result) if isinstance(result, Mapping) else None


async def gather(env: Any, only: tuple[str, ...] | None = None) -> tuple[dict[str, Any], list[str]]:
    """(snapshots by Worker name, names of the Workers that answered)."""
    names = [n for n in WORKERS if only is None or n in only]
    results = await asyncio.gather(*(_one(env, WORKERS[n]) for n in names))
    snapshots = {n: r for n, r in zip(names, results, strict=True) if r is not None}
    return snapshots, sorted(snapshots)


def impact(snapshots: Mapping[str, Any], services: list[str]) -> dict[str, Any]:
    """The numbers an incident report quotes, for its services where known, else overall."""
    apm, logs = snapshots.get("apm") or {}, snapshots.get("logs") or {}
    out: dict[str, Any] = {
        "apm": {
            k: apm.get(k)
            for k in ("requests_5m", "error_rate_5m", "p95_ms_5m", "p99_ms_5m")
            if k in apm
        },
        "logs": {k: logs.get(k) for k in ("records_5m", "errors_5m") if k in logs},
        "services": {},
    }
    by_service = apm.get("by_service_5m") or {}
    errors = logs.get("errors_by_service_5m") or {}
    for service in services:
        numbers: dict[str, Any] = {}
        if isinstance(by_service, Mapping) and isinstance(by_service.get(service), Mapping):
            numbers.update(by_service[service])
        if isinstance(errors, Mapping) and service in errors:
            numbers["log_errors"] = errors[service]
        if numbers:
            out["services"][service] = numbers
    out["sources"] = sorted(k for k in ("apm", "logs") if snapshots.get(k))
    return out
