"""Polls Cloudflare's GraphQL Analytics API every 5 minutes, when configured.

Configuration: the secrets `CF_ACCOUNT_ID` and `CF_API_TOKEN` (a token with Account Analytics:
Read), and the var `CF_GRAPHQL_URL` (Cloudflare's endpoint by default; tests point it at a local
server). Without the two secrets nothing is polled.

Each poll asks for the 5-minute groups between the last polled instant and 5 minutes ago
(Cloudflare's analytics arrive with a delay), at most one hour back. If the account's schema
refuses the `coloCode` dimension, the poll is retried once without it. The cursor and the last
outcome live in the CONFIG KV namespace (written once per poll, far below KV's 1 write/s).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from infra import cfanalytics, store
from infra.samples import Batch

ACCOUNT, TOKEN, URL = "CF_ACCOUNT_ID", "CF_API_TOKEN", "CF_GRAPHQL_URL"
DEFAULT_URL = "https://api.cloudflare.com/client/v4/graphql"
CONFIG = "CONFIG"
CURSOR_KEY = "infra:graphql:cursor"
STATUS_KEY = "infra:graphql:status"
STEP_MS = 300_000
DELAY_MS = 300_000
MAX_BACK_MS = 3_600_000
TIMEOUT_S = 20.0
log = logging.getLogger("infra.poller")


def configured(env: Any) -> tuple[str, str, str] | None:
    account, token = getattr(env, ACCOUNT, None), getattr(env, TOKEN, None)
    if not isinstance(account, str) or not account or not isinstance(token, str) or not token:
        return None
    url = getattr(env, URL, None)
    return account, token, url if isinstance(url, str) and url else DEFAULT_URL


async def poll(env: Any, now_ms: int) -> dict[str, Any] | None:
    """One poll; returns its outcome (also stored), or None when not configured."""
    settings = configured(env)
    if settings is None:
        return None
    end = (now_ms - DELAY_MS) // STEP_MS * STEP_MS
    start = max(await _cursor(env, end), end - MAX_BACK_MS)
    if start >= end:
        return {"ok": True, "skipped": "nothing new yet"}
    try:
        groups = await _fetch_and_store(env, settings, start, end, now_ms)
    except (cfanalytics.AnalyticsError, httpx.HTTPError, ValueError) as error:
        outcome = {"ok": False, "at_ms": now_ms, "error": str(error)[:300]}
        await _save(env, STATUS_KEY, outcome)
        log.warning("Cloudflare analytics poll failed: %s", outcome["error"])
        return outcome
    outcome = {"ok": True, "at_ms": now_ms, "from_ms": start, "to_ms": end, "groups": groups}
    await _save(env, STATUS_KEY, outcome)
    await _save(env, CURSOR_KEY, end)
    return outcome


async def _fetch_and_store(
    env: Any, settings: tuple[str, str, str], start: int, end: int, now_ms: int
) -> dict[str, int]:
    account, token, url = settings
    try:
        answer = await _post(url, token, cfanalytics.request_body(account, start, end))
        data = cfanalytics.account_data(answer)
    except cfanalytics.AnalyticsError as error:
        if "coloCode" not in str(error):
            raise
        body = cfanalytics.request_body(account, start, end, colo=False)
        data = cfanalytics.account_data(await _post(url, token, body))
    batch = Batch()
    groups = cfanalytics.add_answer(batch, data)
    if batch.points:
        await store.write(env, batch, now_ms)
    return groups


async def _post(url: str, token: str, body: dict[str, Any]) -> Any:
    headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
        reply = await client.post(url, json=body, headers=headers)
    try:
        answer = reply.json()
    except ValueError:
        reply.raise_for_status()
        raise cfanalytics.AnalyticsError(f"HTTP {reply.status_code}: not JSON") from None
    if reply.status_code >= 400 and not (isinstance(answer, dict) and answer.get("errors")):
        raise cfanalytics.AnalyticsError(f"HTTP {reply.status_code}")
    return answer


async def _cursor(env: Any, end: int) -> int:
    kv = getattr(env, CONFIG, None)
    raw = await kv.get(CURSOR_KEY) if kv is not None else None
    try:
        return int(raw) if raw is not None else end - 6 * STEP_MS
    except ValueError:
        return end - 6 * STEP_MS


async def _save(env: Any, key: str, value: Any) -> None:
    kv = getattr(env, CONFIG, None)
    if kv is not None:
        await kv.put(key, json.dumps(value))


async def status(env: Any) -> dict[str, Any]:
    """The last poll's outcome, for `/infra/sources`."""
    if configured(env) is None:
        return {"configured": False}
    kv = getattr(env, CONFIG, None)
    raw = await kv.get(STATUS_KEY) if kv is not None else None
    return {"configured": True, "last": json.loads(raw) if raw else None}
