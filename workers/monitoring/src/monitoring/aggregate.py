"""Aggregated health: this Worker's own storage, every other Worker, and the checks.

Components and what they weigh: the CONFIG namespace and the registry Durable Object are
critical (without them nothing here works); the other Workers are not (monitoring goes on
without them, degraded); the checks are critical only when every one is down (Pitchey is down).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

from monitoring import control
from monitoring.probes.internal import WORKERS
from obs_schema import health as binding_health
from obs_schema.health import Probe
from obs_schema.models.health import ComponentHealth, HealthStatus

TIMEOUT_S = 5.0
H, D, U = HealthStatus.HEALTHY, HealthStatus.DEGRADED, HealthStatus.UNHEALTHY


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


async def _kv(env: Any) -> ComponentHealth:
    found = await binding_health.check(env, Probe("CONFIG", "kv"))
    return ComponentHealth(
        status=HealthStatus(found["status"]),
        latency_ms=found["latency_ms"],
        detail=found["detail"],
        kind="kv",
        critical=True,
    )


async def _registry(env: Any) -> ComponentHealth:
    started, nonce = time.perf_counter(), secrets.token_hex(4)
    try:
        ok = await asyncio.wait_for(control.registry(env).echo(nonce), TIMEOUT_S) == nonce
    except Exception as error:
        return ComponentHealth(status=U, latency_ms=_ms(started), kind="durable_object",
                               critical=True, detail=f"{type(error).__name__}")  # fmt: skip
    status, detail = (H, "ok") if ok else (U, "round trip returned another value")
    return ComponentHealth(status=status, latency_ms=_ms(started), kind="durable_object",
                           critical=True, detail=detail)  # fmt: skip


async def _worker(env: Any, name: str) -> ComponentHealth:
    binding, prefix = WORKERS[name]
    started = time.perf_counter()
    try:
        reply = await asyncio.wait_for(
            getattr(env, binding).fetch(f"https://{prefix}.internal/{prefix}/health"), TIMEOUT_S
        )
        status = (await reply.json()).get("status")
    except Exception as error:
        return ComponentHealth(status=U, latency_ms=_ms(started), kind="worker",
                               detail=f"unreachable: {type(error).__name__}")  # fmt: skip
    known = status in ("healthy", "degraded", "unhealthy")
    return ComponentHealth(
        status=HealthStatus(status) if known else U,
        latency_ms=_ms(started),
        kind="worker",
        detail=f"{name} reports {status}" if known else f"{name} answered HTTP {reply.status}",
    )


async def _checks(env: Any) -> ComponentHealth:
    started = time.perf_counter()
    records = await control.registry(env).list()
    enabled = [r for r in records if r["spec"].get("enabled", True)]
    statuses = [(r.get("board") or {}).get("status", "pending") for r in enabled]
    down, degraded = statuses.count("down"), statuses.count("degraded")
    status = U if enabled and down == len(enabled) else D if down or degraded else H
    detail = f"{len(enabled)} checks: {down} down, {degraded} degraded"
    return ComponentHealth(status=status, latency_ms=_ms(started), kind="checks",
                           critical=True, detail=detail)  # fmt: skip


async def components(env: Any) -> dict[str, ComponentHealth]:
    """Every component, probed concurrently."""
    names = ["CONFIG", "REGISTRY", *(f"worker:{w}" for w in WORKERS), "checks"]
    probes = [_kv(env), _registry(env), *(_worker(env, w) for w in WORKERS), _checks(env)]
    found = await asyncio.gather(*probes)
    return dict(zip(names, found, strict=True))
