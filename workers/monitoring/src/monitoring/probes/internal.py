"""Internal checks: the stack's own storage and Workers, from inside.

- `kv`: write a fresh value to the CONFIG namespace and read it back;
- `r2`: put, get and delete an object in the PROBES bucket;
- `durable_object`: a write-then-read round trip through the registry Durable Object;
- `service`: another Worker's `/health` over its service binding (`degraded` counts as up but
  degraded, `unhealthy` as down).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from monitoring.probes import ProbeContext, ProbeFailure, elapsed_ms
from monitoring.state import Outcome

# Worker name -> (service binding, route prefix).
WORKERS = {
    "logs": ("LOGS", "logs"),
    "apm": ("APM", "apm"),
    "infra": ("INFRA", "infra"),
    "alerting": ("ALERTING", "alerts"),
    "security": ("SECURITY", "security"),
}
KV_TTL_S = 120


def _binding(env: Any, name: str) -> Any:
    binding = getattr(env, name, None)
    if binding is None:
        raise ProbeFailure(f"binding {name} is not configured")
    return binding


async def _kv(env: Any, key: str, nonce: str) -> None:
    kv = _binding(env, "CONFIG")
    await kv.put(key, nonce, expirationTtl=KV_TTL_S)
    if await kv.get(key) != nonce:
        raise ProbeFailure("KV read did not return the value just written")


async def _r2(env: Any, key: str, nonce: str) -> None:
    bucket = _binding(env, "PROBES")
    await bucket.put(key, nonce)
    stored = await bucket.get(key)
    if stored is None or await stored.text() != nonce:
        raise ProbeFailure("R2 read did not return the object just written")
    await bucket.delete(key)


async def _durable_object(env: Any, nonce: str) -> None:
    registry = _binding(env, "REGISTRY").getByName("registry")
    if await registry.echo(nonce) != nonce:
        raise ProbeFailure("the Durable Object did not return the value just written")


async def _service(env: Any, worker: str) -> Outcome:
    binding_name, prefix = WORKERS[worker]
    started = time.perf_counter()
    response = await _binding(env, binding_name).fetch(f"https://{prefix}.internal/{prefix}/health")
    latency = elapsed_ms(started)
    try:
        status = (await response.json()).get("status")
    except Exception:
        status = None
    if response.status >= 500 or status == "unhealthy":
        return Outcome(
            False, latency, f"{worker} reports {status or response.status}", response.status
        )
    if status not in ("healthy", "degraded"):
        return Outcome(
            False, latency, f"{worker} health answered HTTP {response.status}", response.status
        )
    degraded = status == "degraded"
    detail = f"{worker} reports degraded" if degraded else None
    return Outcome(True, latency, None, response.status, degraded=degraded, detail=detail)


async def probe(spec: dict[str, Any], context: ProbeContext) -> Outcome:
    target = str(spec["target"])
    if target == "service":
        return await _service(context.env, str(spec["worker"]))
    nonce = secrets.token_hex(8)
    key = f"monitoring/probe/{context.check_id}"
    started = time.perf_counter()
    try:
        if target == "kv":
            await _kv(context.env, key, nonce)
        elif target == "r2":
            await _r2(context.env, key, nonce)
        else:
            await _durable_object(context.env, nonce)
    except ProbeFailure:
        raise
    except Exception as error:
        raise ProbeFailure(f"{target} failed: {type(error).__name__}: {str(error)[:160]}") from None
    return Outcome(ok=True, latency_ms=elapsed_ms(started))
