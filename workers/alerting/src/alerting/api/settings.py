"""Configuration: routing/receivers/escalation (`/alerts/config`), rules, on-call."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from alerting import evaluator
from alerting.api.bodies import CONFIG_EXAMPLE, RULES_EXAMPLE
from alerting.api.common import Admin, Reader, env_of, instant_ms
from alerting.client import Hub
from alerting.telemetry import AlertingMetrics


def router(metrics: AlertingMetrics) -> APIRouter:
    api = APIRouter(prefix="/alerts", tags=["configuration"])

    @api.get("/config", summary="The routing, receiver, inhibition and escalation configuration")
    async def get_config(request: Request, _: Reader) -> dict[str, Any]:
        result: dict[str, Any] = await Hub(env_of(request)).call("get_config")
        return result

    @api.put(
        "/config",
        summary="Replace the configuration (validated as a whole: 422 lists every problem)",
        description="Literal secrets read back as `<redacted>`; sending such a document back "
        'keeps the stored values. Prefer `{"secret": "ENV_NAME"}` references.',
    )
    async def put_config(
        request: Request,
        _: Admin,
        body: Annotated[dict[str, Any], Body(examples=[CONFIG_EXAMPLE])],
    ) -> dict[str, Any]:
        result: dict[str, Any] = await Hub(env_of(request)).call("put_config", document=body)
        return result

    @api.get("/rules", summary="Alert rules, with each instance's state (pending, firing)")
    async def get_rules(request: Request, _: Reader) -> dict[str, Any]:
        result: dict[str, Any] = await Hub(env_of(request)).call("get_rules")
        return result

    @api.put("/rules", summary="Replace the rules (422 lists every problem)")
    async def put_rules(
        request: Request,
        _: Admin,
        body: Annotated[Any, Body(examples=[RULES_EXAMPLE])],
    ) -> dict[str, Any]:
        result: dict[str, Any] = await Hub(env_of(request)).call("put_rules", document=body)
        return result

    @api.post("/rules/evaluate", summary="Run one rule evaluation cycle now (as the cron does)")
    async def evaluate_now(request: Request, _: Admin) -> dict[str, Any]:
        return await evaluator.cycle(env_of(request), None, metrics)

    @api.get("/oncall", summary="Who is on call now and next, per schedule")
    async def oncall(
        request: Request,
        _: Reader,
        at: str | None = Query(
            default=None, description="RFC 3339, epoch ms or now+1d; default now"
        ),
    ) -> dict[str, Any]:
        result: dict[str, Any] = await Hub(env_of(request)).call("oncall", at_ms=instant_ms(at))
        return result

    return api
