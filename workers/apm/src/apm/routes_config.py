"""Configuration routes: Apdex T, N+1 threshold, tail sampling, threshold rules."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from apm.schemas import ApmConfig, Thresholds
from apm.sharding import control_stub
from obs_schema import auth

router = APIRouter(prefix="/apm", tags=["config"])


def _settings(config: dict[str, Any]) -> dict[str, Any]:
    return {key: config[key] for key in ("apdex_t_ms", "n_plus_one_min", "sampling")}


@router.get("/config", summary="APM settings", dependencies=[Depends(auth.require("read"))])
async def get_config(request: Request) -> dict[str, Any]:
    return _settings(await control_stub(request.scope["env"]).config())


@router.put(
    "/config", summary="Replace APM settings", dependencies=[Depends(auth.require("admin"))]
)
async def put_config(request: Request, body: ApmConfig) -> dict[str, Any]:
    changed = await control_stub(request.scope["env"]).update(body.model_dump(mode="json"))
    return _settings(changed)


@router.get(
    "/thresholds",
    summary="Threshold rules and their current state",
    dependencies=[Depends(auth.require("read"))],
)
async def get_thresholds(request: Request) -> dict[str, Any]:
    stub = control_stub(request.scope["env"])
    config, states = await stub.config(), await stub.states()
    return {"rules": config["thresholds"], "states": [_state(s) for s in states]}


@router.put(
    "/thresholds",
    summary="Replace the threshold rules",
    dependencies=[Depends(auth.require("admin"))],
)
async def put_thresholds(request: Request, body: Thresholds) -> dict[str, Any]:
    rules = [rule.model_dump(mode="json") for rule in body.rules]
    config = await control_stub(request.scope["env"]).update({"thresholds": rules})
    return {"rules": config["thresholds"]}


def _state(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "rule": state["rule_id"],
        "service": state["service"],
        "route": state["route"] or None,
        "firing": bool(state["firing"]),
        "since_ms": state["since_ms"],
        "value": state["value"],
    }
