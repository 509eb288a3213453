"""This deployment's scrubber: its key (secret, or minted once) and its configuration.

The key behind marker hashes is `OBS_SCRUB_KEY` when set (recommended in production); when
it is not, the first request mints 32 random bytes, the catalog Durable Object keeps the first
key offered to it (so concurrent isolates agree), and CONFIG KV mirrors it under
`logs:scrub-key`, so markers stay stable across restarts and isolates. The configuration
(extra patterns, allow-listed and sensitive keys, IP mode, disabled classes) lives in CONFIG KV
under `logs:scrub-config` and is edited through `PUT /logs/config/scrubbing`.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from logs.store import catalog
from obs_schema import host
from obs_schema.scrubbing import Scrubber, ScrubConfig, ScrubConfigError

log = logging.getLogger("logs.redaction")

KEY_KV = "logs:scrub-key"
CONFIG_KV = "logs:scrub-config"
CACHE_SECONDS = 30.0
CONFIG_FIELDS = ("extra_patterns", "allow_keys", "sensitive_keys", "ip_mode", "disabled")

# Per isolate: id(env) -> (env, read at, scrubber); env kept to detect id reuse.
_cache: dict[int, tuple[Any, float, Scrubber]] = {}


async def scrubber_for(env: Any) -> Scrubber:
    cached = _cache.get(id(env))
    if cached is not None and cached[0] is env and host.now() - cached[1] < CACHE_SECONDS:
        return cached[2]
    key = await scrub_key(env)
    try:
        config = config_from(await stored_config(env), key)
    except ScrubConfigError as error:
        # Scrubbing with the defaults beats refusing every log line over a bad setting.
        log.error("stored scrubbing configuration is unusable (%s); using defaults", error)
        config = ScrubConfig(key=key)
    scrubber = Scrubber(config)
    _cache[id(env)] = (env, host.now(), scrubber)
    return scrubber


def forget(env: Any) -> None:
    """Drop the cached scrubber (after the configuration changed)."""
    _cache.pop(id(env), None)


async def stored_config(env: Any) -> dict[str, Any]:
    raw = await env.CONFIG.get(CONFIG_KV)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def save_config(env: Any, data: dict[str, Any]) -> None:
    await env.CONFIG.put(CONFIG_KV, json.dumps(data, sort_keys=True))
    forget(env)


def config_from(data: dict[str, Any], key: bytes = b"") -> ScrubConfig:
    """A `ScrubConfig` from the stored JSON; raises `ScrubConfigError` when unusable."""
    return ScrubConfig(
        key=key,
        extra_patterns=dict(data.get("extra_patterns") or {}),
        allow_keys=frozenset(data.get("allow_keys") or ()),
        sensitive_keys=frozenset(data.get("sensitive_keys") or ()),
        ip_mode=data.get("ip_mode") or "hash",
        disabled=frozenset(data.get("disabled") or ()),
    )


async def scrub_key(env: Any) -> bytes:
    """This deployment's marker key: the secret, else the one minted once (see above)."""
    secret = getattr(env, "OBS_SCRUB_KEY", None)
    if isinstance(secret, str) and secret:
        return secret.encode()
    stored = await env.CONFIG.get(KEY_KV)
    # KV is eventually consistent: two isolates reading it empty at once would each mint a key,
    # and one value would get two markers. The catalog object keeps the first key it is
    # offered (the one already in KV, else a fresh one) and gives it to everyone.
    candidate = str(stored) if stored else secrets.token_urlsafe(32)  # never at import time
    key = str(await env.LOG_CATALOG.getByName(catalog.NAME).scrub_key(candidate))
    if key != stored:
        await env.CONFIG.put(KEY_KV, key)
    return key.encode()
