"""The RPC face of the Worker, for Pitchey's API Worker calling over a service binding.

`await env.SECURITY.check({...})` answers exactly what `POST /security/check` answers, without
HTTP or a token (service-binding RPC never leaves Cloudflare). Arguments are validated by the
same models; an invalid one answers `{"error": {"code": "validation_failed", ...}}` instead of
raising across the binding.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from obs_schema import host
from obs_schema.errors import error_payload
from security import checker, observer, shards
from security.schemas import CheckRequest, Outcome
from security.telemetry import Telemetry


def _invalid(error: ValidationError) -> dict[str, Any]:
    details = [
        {"loc": [str(p) for p in e.get("loc", ())], "message": str(e.get("msg", "invalid"))}
        for e in error.errors()
    ]
    where = ".".join(details[0]["loc"]) if details else "request"
    return error_payload("validation_failed", f"{where}: {details[0]['message']}", details)


async def check(env: Any, request: dict[str, Any], telemetry: Telemetry) -> dict[str, Any]:
    try:
        body = CheckRequest.model_validate(request)
    except ValidationError as error:
        return _invalid(error)
    return await checker.check(env, body.model_dump(), telemetry, host.now_ms())


async def outcomes(env: Any, items: list[dict[str, Any]], telemetry: Telemetry) -> dict[str, Any]:
    accepted, rejected, anomalies = 0, [], []
    now = host.now_ms()
    for index, raw in enumerate(items[:1000]):
        try:
            outcome = Outcome.model_validate(raw)
        except ValidationError as error:
            rejected.append({"index": index, "error": _invalid(error)["error"]["message"]})
            continue
        anomalies += await observer.observe(env, outcome.model_dump(), telemetry, now)
        accepted += 1
    return {"accepted": accepted, "rejected": rejected, "anomalies": anomalies}


async def snapshot(env: Any) -> dict[str, int]:
    """SecuritySnapshot (obs_schema.snapshots): the last five minutes, blocks in force."""
    now = host.now_ms()
    summaries = await shards.all_shards(env, "summary", now - 300_000, 0)
    tallies: dict[str, int] = {}
    events = 0
    for summary in summaries:
        for name, n in summary["tallies"].items():
            tallies[name] = tallies.get(name, 0) + n
        events += sum(summary["events"].values())
    active = await shards.ledger(env).count_active(now)
    return {
        "events_5m": events,
        "blocks_active": active.get("block", 0),
        "rate_limited_5m": tallies.get("rate_limited", 0),
        "threats_5m": tallies.get("threats", 0),
    }
