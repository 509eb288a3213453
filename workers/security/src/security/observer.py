"""`/security/outcomes`: what Pitchey answered, fed to the behavioural detectors.

A 4xx goes to the source's profile and, for a signed-in user, to the user's profile too
(scanning bursts: a user rotating addresses is still one scanner). A login attempt goes to
the source's profile (one source failing across many accounts) and, when it failed, to the
account's profile (one account failing from many sources). Account names never leave this module in
clear: shards key and store a digest. Anomalies become events in the source's shard.
"""

from __future__ import annotations

from typing import Any

from security import edge, responder, shards
from security.checker import account_key
from security.policy import scoring, thresholds
from security.telemetry import Telemetry


async def observe(
    env: Any, outcome: dict[str, Any], telemetry: Telemetry, now_ms: int
) -> list[dict[str, Any]]:
    policy, _ = await edge.current(env)
    ip = outcome["ip"]
    login = outcome.get("login")
    account = account_key(login["account"]) if login else None
    route = outcome.get("route") or outcome.get("path")
    common = {
        "now_ms": now_ms,
        "ip": ip,
        "route": route,
        "user_id": outcome.get("user_id"),
        "thresholds": thresholds(policy),
        "scoring": scoring(policy),
    }
    forwarded: list[dict[str, Any]] = []
    if login is not None and not login["success"]:
        _, account_shard = shards.for_key(env, f"acct:{account}")
        answer = await account_shard.outcome(
            {**common, "subject": f"acct:{account}", "success": False, "record": False}
        )
        forwarded = answer["anomalies"]
    if outcome.get("user_id"):
        user = f"user={outcome['user_id']}"
        _, user_shard = shards.for_key(env, user)
        answer = await user_shard.outcome(
            {**common, "subject": user, "status": outcome["status"], "record": False}
        )
        forwarded += answer["anomalies"]
    _, source_shard = shards.for_key(env, f"ip={ip}")
    mine = await source_shard.outcome(
        {
            **common,
            "status": outcome["status"],
            "account": account,
            "success": login["success"] if login else None,
        }
    )
    incidents = list(mine["incidents"])
    if forwarded:
        events = [
            {
                "type": a["type"],
                "ip": ip,
                "user_id": outcome.get("user_id"),
                "route": route,
                "score": a["score"],
                "action": "allow",
                "evidence": a["detail"],
                "time_ms": now_ms,
            }
            for a in forwarded
        ]
        recorded = await source_shard.record({**common, "events": events})
        incidents += recorded["incidents"]
    anomalies: list[dict[str, Any]] = forwarded + list(mine["anomalies"])
    for anomaly in anomalies:
        telemetry.anomalies.labels(type=anomaly["type"]).inc()
    await responder.respond(env, incidents, policy, telemetry, now_ms)
    return anomalies
