"""The security Worker's ASGI app: shared scaffolding plus this Worker's routes and crons."""

from __future__ import annotations

from typing import Any

from starlette.middleware import Middleware

from obs_schema import host
from obs_schema.app import Probe, WorkerSpec, create_app
from obs_schema.schedule import Schedule
from security import fastpath, intel, shards
from security.fastpath import CheckFastPath
from security.routes import blocks, check, events, rules
from security.telemetry import Telemetry

SPEC = WorkerSpec(
    name="security",
    prefix="/security",
    title="Pitchey observability: security",
    description=(
        "Rate limiting, threat and anomaly detection, security events and automated response."
    ),
    probes=(Probe("CONFIG", "kv"),),
)

app = create_app(SPEC)
telemetry = Telemetry(app.state.registry)
app.state.telemetry = telemetry
for module in (check, rules, events, blocks):
    app.include_router(module.router)
# Innermost of the app's middleware (inside Instrumentation and BodyGuard; add_middleware would
# put it outermost): the well-formed check skips FastAPI's routing; see security.fastpath.
app.user_middleware.append(
    Middleware(
        CheckFastPath,
        telemetry=telemetry,
        route=next(r for r in check.router.routes if getattr(r, "path", None) == fastpath.PATH),
    )
)
schedule = Schedule(telemetry=app.state.binding_telemetry)


@schedule.job("*/15 * * * *")
async def reload_intel(env: Any, scheduled_ms: int) -> None:
    """Threat-intelligence lists from R2, compiled and published to the edge."""
    await intel.reload(env, telemetry)


@schedule.job("* * * * *")
async def refresh_gauges(env: Any, scheduled_ms: int) -> None:
    """Top offenders and routes (last hour) and active blocks, for /security/metrics."""
    summaries = await shards.all_shards(env, "summary", scheduled_ms - 3_600_000, 10)
    sources: dict[str, float] = {}
    routes: dict[str, float] = {}
    for summary in summaries:
        for row in summary["top_sources"]:
            sources[row["ip"]] = sources.get(row["ip"], 0.0) + row["score"]
        for row in summary["top_routes"]:
            routes[row["route"]] = routes.get(row["route"], 0.0) + row["score"]
    telemetry.top_sources.replace(({"ip": k}, v) for k, v in _top(sources))
    telemetry.top_routes.replace(({"route": k[:200]}, v) for k, v in _top(routes))
    await blocks.refresh(env, telemetry, host.now_ms())


@schedule.job("0 * * * *")
async def maintain(env: Any, scheduled_ms: int) -> None:
    """Retention and idle-incident closing in every shard."""
    await shards.all_shards(env, "maintain", scheduled_ms)


def _top(scores: dict[str, float], n: int = 10) -> list[tuple[str, float]]:
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
