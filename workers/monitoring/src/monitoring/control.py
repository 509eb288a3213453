"""The Worker side of the Durable Objects: stubs, and the operations that span the registry
and a monitor (create, replace, delete, declared-file sync). Routes and cron call these."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from monitoring import declared, targets
from obs_schema import host

log = logging.getLogger("monitoring.control")
REGISTRY_NAME = "registry"


def registry(env: Any) -> Any:
    return env.REGISTRY.getByName(REGISTRY_NAME)


def monitor(env: Any, check_id: str) -> Any:
    return env.MONITOR.getByName(check_id)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def configure(env: Any, spec: dict[str, Any], created_ms: int) -> dict[str, Any]:
    status: dict[str, Any] = await monitor(env, spec["id"]).configure(spec, created_ms)
    return status


async def remove(env: Any, check_id: str) -> None:
    await monitor(env, check_id).destroy()


async def sync_declared(env: Any) -> dict[str, Any]:
    """Make the checks of the declared file exist; the registry applies each version once."""
    environment = str(getattr(env, "OBS_ENVIRONMENT", "") or "")
    specs = [s for s in declared.for_environment(environment) if _allowed(env, s)]
    digest = hashlib.sha256(json.dumps(specs, sort_keys=True).encode()).hexdigest()
    changes: dict[str, Any] = await registry(env).sync_declared(specs, digest, host.now_ms())
    for item in changes["configure"]:
        await configure(env, item["spec"], item["created_ms"])
    for check_id in changes["remove"]:
        await remove(env, check_id)
    for check_id in changes["blocked"]:
        log.warning("declared check %s clashes with an API check of the same id", check_id)
    return changes


def _allowed(env: Any, spec: dict[str, Any]) -> bool:
    why = target_refusal(env, spec)
    if why is not None:
        log.warning("declared check %s refused: %s", spec["id"], why)
    return why is None


def target_refusal(env: Any, spec: dict[str, Any]) -> str | None:
    """Why this deployment may not run `spec` (a private target), or None."""
    if targets.allowed_by(env):
        return None
    for field in ("url", "resolver"):
        if spec.get(field) and (why := targets.url_refusal(str(spec[field]))):
            return why
    if spec.get("host"):
        return targets.host_refusal(str(spec["host"]))
    return None
