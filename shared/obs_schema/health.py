"""Binding probes behind every Worker's `GET /<prefix>/health`.

Each probe makes the cheapest real call its binding allows (a KV read, an R2 head, deriving a
Durable Object id, resolving a service binding) and times it; the report rolls them up.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Literal

from obs_schema import host
from obs_schema.timespec import format_rfc3339

ProbeKind = Literal["kv", "r2", "durable_object", "service"]
PROBE_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Probe:
    binding: str
    kind: ProbeKind


async def check(env: Any, probe: Probe) -> dict[str, Any]:
    binding = getattr(env, probe.binding, None) if env is not None else None
    if binding is None:
        return _component("unhealthy", probe, 0.0, "binding not configured")
    started = time.perf_counter()
    try:
        await asyncio.wait_for(_touch(binding, probe.kind), PROBE_TIMEOUT_SECONDS)
    except TimeoutError:
        return _component("unhealthy", probe, _ms(started), "timed out")
    except Exception as error:
        return _component(
            "unhealthy", probe, _ms(started), f"{type(error).__name__}: {error}"[:200]
        )
    return _component("healthy", probe, _ms(started), "ok")


async def report(env: Any, worker: str, version: str, probes: tuple[Probe, ...]) -> dict[str, Any]:
    components = {p.binding: await check(env, p) for p in probes}
    return {
        "status": overall([c["status"] for c in components.values()]),
        "worker": worker,
        "version": version,
        "time": format_rfc3339(host.now()),
        "components": components,
    }


def overall(statuses: list[str]) -> str:
    if all(s == "healthy" for s in statuses):
        return "healthy"
    if all(s == "unhealthy" for s in statuses):
        return "unhealthy"
    return "degraded"


async def _touch(binding: Any, kind: ProbeKind) -> None:
    if kind == "kv":
        await binding.get("health:probe")
    elif kind == "r2":
        await binding.head("health/probe")
    elif kind == "durable_object":
        binding.idFromName("health-probe")
    elif not callable(getattr(binding, "fetch", None)):
        raise TypeError("service binding has no fetch()")


def _component(status: str, probe: Probe, latency_ms: float, detail: str) -> dict[str, Any]:
    return {
        "status": status,
        "kind": probe.kind,
        "latency_ms": round(latency_ms, 3),
        "detail": detail,
    }


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
