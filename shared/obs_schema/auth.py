"""Bearer-token auth with three scopes: `ingest` (write telemetry), `read` (query), `admin`.

Tokens are never stored in clear: the Workers look the SHA-256 of the presented token up among
the hashes of the configured tokens. Configured tokens come from the Worker's secrets
(`OBS_INGEST_TOKEN`, `OBS_READ_TOKEN`, `OBS_ADMIN_TOKEN`) and from the hashes kept in the
shared CONFIG KV namespace, which `bootstrap_tokens` fills on a stack's first start.
An admin token is accepted wherever a read or ingest token is.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from obs_schema import host
from obs_schema.errors import Forbidden, Unauthorized
from obs_schema.telemetry.bindings import unwrap

SCOPES = ("ingest", "read", "admin")
SECRET_NAMES = {"ingest": "OBS_INGEST_TOKEN", "read": "OBS_READ_TOKEN", "admin": "OBS_ADMIN_TOKEN"}
CONFIG_BINDING = "CONFIG"
TOKENS_KEY = "auth:token-hashes"
CACHE_SECONDS = 30.0

ScopeTable = dict[str, str]  # token hash -> scope

# Per isolate: KV binding id -> (binding, read at, hashes). The binding is kept to detect id reuse.
_cache: dict[int, tuple[Any, float, dict[str, list[str]]]] = {}
# Per isolate: (secrets, id of the KV record) -> (that record, its scope table).
_tables: dict[tuple[tuple[object, ...], int], tuple[dict[str, list[str]], ScopeTable]] = {}


@dataclass(frozen=True)
class Principal:
    scope: str

    def grants(self, required: str) -> bool:
        return self.scope == required or self.scope == "admin"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_token(scope: str) -> str:
    # A recognisable prefix lets secret scanners and humans tell what a leaked token opens.
    return f"obs_{scope}_{secrets.token_urlsafe(32)}"


async def scope_table(env: Any) -> ScopeTable:
    """Hash of every configured token -> its scope: secrets, then the CONFIG KV record (read
    at most every CACHE_SECONDS). Built once per configuration, not per request."""
    secrets_ = tuple(getattr(env, name, None) for name in SECRET_NAMES.values())
    record = await _kv_hashes(env)
    key = (secrets_, id(record))
    found = _tables.get(key)
    if found is not None and found[0] is record:
        return found[1]
    hashes: dict[str, list[str]] = {scope: [] for scope in SCOPES}
    for scope, token in zip(SECRET_NAMES, secrets_, strict=True):
        if isinstance(token, str) and token:
            hashes[scope].append(hash_token(token))
    for scope, stored in record.items():
        if scope in hashes:
            hashes[scope].extend(stored)
    if len(_tables) >= 64:  # configurations change rarely; stale ones must not pile up
        _tables.clear()
    table = _tables[key] = (record, table_of(hashes))
    return table[1]


def table_of(hashes: Mapping[str, list[str]]) -> ScopeTable:
    """Configured hashes per scope as one lookup; a token configured for two scopes gets the
    stronger (SCOPES runs weakest to strongest)."""
    return {stored: scope for scope in SCOPES for stored in hashes.get(scope, [])}


def match_scope(token: str, table: ScopeTable) -> str | None:
    """The scope of `token`, found by its SHA-256. The lookup compares hashes, never tokens:
    its timing can tell at most how a guess's hash relates to a stored hash, which says
    nothing about any token (the reason to store and compare hashes at all)."""
    return table.get(hash_token(token))


async def authenticate(env: Any, authorization: str | None) -> Principal:
    token = _bearer(authorization)
    scope = match_scope(token, await scope_table(env))
    if scope is None:
        raise Unauthorized("invalid bearer token")
    return Principal(scope)


def require(scope: str) -> Callable[[Request], Awaitable[Principal]]:
    """FastAPI dependency: the request must carry a token granting `scope`."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def dependency(request: Request) -> Principal:
        principal = await authenticate(
            request.scope.get("env"), request.headers.get("authorization")
        )
        if not principal.grants(scope):
            raise Forbidden(f"this token lacks the '{scope}' scope")
        return principal

    return dependency


async def bootstrap_tokens(kv: Any, env_tokens: Mapping[str, str]) -> dict[str, str] | None:
    """On a first start with no tokens configured anywhere, mint one per scope.

    Only the hashes are stored; the clear tokens are returned once for the operator to note.
    """
    if any(env_tokens.get(name) for name in SECRET_NAMES.values()):
        return None
    if await kv.get(TOKENS_KEY) is not None:
        return None
    tokens = {scope: generate_token(scope) for scope in SCOPES}
    record = {scope: [hash_token(token)] for scope, token in tokens.items()}
    await kv.put(TOKENS_KEY, json.dumps(record))
    _cache.clear()
    return tokens


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    kind, _, token = authorization.strip().partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return token.strip()


async def _kv_hashes(env: Any) -> dict[str, list[str]]:
    kv = getattr(env, CONFIG_BINDING, None)
    if kv is None:
        return {}
    binding = unwrap(kv)  # key on the binding itself: timing proxies are made per request
    cached = _cache.get(id(binding))
    if cached is not None and cached[0] is binding and host.now() - cached[1] < CACHE_SECONDS:
        return cached[2]
    record = _parse_record(await kv.get(TOKENS_KEY))
    _cache[id(binding)] = (binding, host.now(), record)
    return record


def _parse_record(raw: str | None) -> dict[str, list[str]]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        scope: [h for h in hashes if isinstance(h, str)]
        for scope, hashes in data.items()
        if isinstance(hashes, list)
    }
