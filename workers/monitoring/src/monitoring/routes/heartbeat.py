"""`/monitoring/heartbeat/{token}`: push monitors for cron jobs and batch work.

No bearer token: the URL's token is the secret (stored only as a SHA-256). `GET` or `POST`,
optionally `?status=down&msg=...` to report a failed run and `?ping=<ms>` for its duration, as
Uptime Kuma's push URLs do, so existing scripts work unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request

from monitoring import control
from obs_schema.errors import NotFound

router = APIRouter(prefix="/monitoring", tags=["heartbeats"])


async def _beat(
    request: Request, token: str, status: str, msg: str | None, ping: float | None
) -> dict[str, Any]:
    env = request.scope.get("env")
    await control.sync_declared(env)
    check_id = await control.registry(env).by_token(control.hash_token(token))
    if check_id is None:
        raise NotFound("no heartbeat check has this URL")
    reply: dict[str, Any] = await control.monitor(env, check_id).beat(status, msg, ping)
    return {"check_id": check_id, **reply}


Status = Query("up", description="`up` (default) or `down` when the job failed.")
Message = Query(None, max_length=1024, description="What happened (shown on failure).")
Ping = Query(None, ge=0, le=86_400_000, description="The job's duration in ms.")


@router.get("/heartbeat/{token}", name="heartbeat", summary="Record a heartbeat")
async def beat_get(
    request: Request,
    token: str,
    status: Literal["up", "down"] = Status,
    msg: str | None = Message,
    ping: float | None = Ping,
) -> dict[str, Any]:
    return await _beat(request, token, status, msg, ping)


@router.post("/heartbeat/{token}", summary="Record a heartbeat")
async def beat_post(
    request: Request,
    token: str,
    status: Literal["up", "down"] = Status,
    msg: str | None = Message,
    ping: float | None = Ping,
) -> dict[str, Any]:
    return await _beat(request, token, status, msg, ping)
