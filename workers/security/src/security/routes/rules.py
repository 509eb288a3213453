"""`GET/PUT /security/rules`: the whole security policy (scope `admin`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from obs_schema.errors import Unprocessable
from security import edge
from security import policy as policies
from security.routes.access import Admin
from security.schemas import PolicyIn, PolicyOut

router = APIRouter(prefix="/security", tags=["configuration"])


@router.get("/rules", response_model=PolicyOut, summary="The security policy in force")
async def get_rules(request: Request, _: Admin) -> dict[str, Any]:
    policy, _detector = await edge.current(request.scope["env"])
    return policies.to_dict(policy)


@router.put(
    "/rules",
    response_model=PolicyOut,
    summary="Replace the security policy",
    description="Rate-limit rules (key ip/user/token/route/header:<name>, limit, window_s, mode "
    "sliding_window or exact, routes, methods), detection (paranoia 1-4, challenge and block "
    "scores, disabled rules), response (auto-block, TTL, incident alert/block scores) and "
    "anomaly thresholds. Omitted sections take their defaults.",
)
async def put_rules(request: Request, body: PolicyIn, _: Admin) -> dict[str, Any]:
    env = request.scope["env"]
    current, _detector = await edge.current(env)
    data = body.model_dump()
    data["version"] = current.version + 1
    try:
        policy = policies.from_dict(data)
    except ValueError as error:
        raise Unprocessable(str(error)) from None
    if policy.detection.challenge_score > policy.detection.block_score:
        raise Unprocessable("detection.challenge_score must not exceed detection.block_score")
    await edge.save_policy(env, policy)
    return policies.to_dict(policy)
