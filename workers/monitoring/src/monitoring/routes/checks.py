"""`/monitoring/checks`: define, list, change and delete checks; their results; run one now."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from monitoring import control, views
from monitoring.schemas import CheckIn, slugify
from monitoring.store import decode_cursor, encode_cursor
from obs_schema import auth, host
from obs_schema.errors import Conflict, NotFound, Unprocessable
from obs_schema.timespec import TimeSpecError, parse_window

router = APIRouter(prefix="/monitoring", tags=["checks"])
READ = [Depends(auth.require("read"))]
ADMIN = [Depends(auth.require("admin"))]


def env_of(request: Request) -> Any:
    return request.scope.get("env")


async def _record(env: Any, check_id: str) -> dict[str, Any]:
    await control.sync_declared(env)
    record: dict[str, Any] | None = await control.registry(env).get(check_id)
    if record is None:
        raise NotFound(f"no check with id {check_id!r}")
    return record


def _spec(env: Any, check: Any, check_id: str) -> dict[str, Any]:
    spec: dict[str, Any] = check.model_dump(mode="json")
    spec["id"] = check_id
    why = control.target_refusal(env, spec)
    if why is not None:
        field = "host" if spec.get("host") else "resolver" if spec.get("resolver") else "url"
        detail = {
            "loc": ["body", field],
            "message": f"target refused: {why}",
            "type": "value_error",
        }
        raise Unprocessable(f"{field}: target refused: {why}", details=[detail])
    return spec


def _heartbeat_url(request: Request, token: str) -> str:
    return str(request.url_for("heartbeat", token=token))


@router.get("/checks", dependencies=READ, summary="List every check with its current state")
async def list_checks(request: Request) -> dict[str, Any]:
    env = env_of(request)
    await control.sync_declared(env)
    records = await control.registry(env).list()
    return {"checks": [views.check(r) for r in records]}


@router.post("/checks", dependencies=ADMIN, status_code=201, summary="Create a check")
async def create_check(request: Request, check: Annotated[CheckIn, Body()]) -> dict[str, Any]:
    env = env_of(request)
    await control.sync_declared(env)
    check_id = check.id or f"{slugify(check.name)}-{secrets.token_hex(3)}"
    spec = _spec(env, check, check_id)
    token = secrets.token_urlsafe(24) if spec["type"] == "heartbeat" else None
    token_hash = control.hash_token(token) if token else None
    now = host.now_ms()
    record = await control.registry(env).create(spec, "api", token_hash, now)
    if record is None:
        raise Conflict(f"a check with id {check_id!r} exists; PUT to change it")
    await control.configure(env, spec, record["created_ms"])
    view = views.check(await _record(env, check_id))
    if token:
        view["heartbeat_url"] = _heartbeat_url(request, token)
    return view


@router.get("/checks/{check_id}", dependencies=READ, summary="One check and its current state")
async def get_check(request: Request, check_id: str) -> dict[str, Any]:
    return views.check(await _record(env_of(request), check_id))


@router.put("/checks/{check_id}", dependencies=ADMIN, summary="Replace a check's definition")
async def replace_check(
    request: Request, check_id: str, check: Annotated[CheckIn, Body()]
) -> dict[str, Any]:
    env = env_of(request)
    record = await _record(env, check_id)
    if record["source"] != "api":
        raise Conflict(f"check {check_id!r} is declared in checks.toml; change it there")
    if check.id is not None and check.id != check_id:
        raise Unprocessable("id: the body's id differs from the URL's")
    spec = views.keep_secrets(_spec(env, check, check_id), record["spec"])
    await control.registry(env).replace(spec, host.now_ms())
    await control.configure(env, spec, record["created_ms"])
    return views.check(await _record(env, check_id))


@router.delete("/checks/{check_id}", dependencies=ADMIN, status_code=204, summary="Delete a check")
async def delete_check(request: Request, check_id: str) -> Response:
    env = env_of(request)
    record = await _record(env, check_id)
    if record["source"] != "api":
        raise Conflict(f"check {check_id!r} is declared in checks.toml; remove it there")
    await control.registry(env).delete(check_id)
    await control.remove(env, check_id)
    return Response(status_code=204)


@router.post("/checks/{check_id}/run", dependencies=ADMIN, summary="Run a check now")
async def run_check(request: Request, check_id: str) -> dict[str, Any]:
    env = env_of(request)
    record = await _record(env, check_id)
    if record["spec"]["type"] == "heartbeat":
        raise Conflict("a heartbeat check waits for beats; it cannot be run")
    result: dict[str, Any] = await control.monitor(env, check_id).run_now()
    return {"result": result, "check": views.check(await _record(env, check_id))}


@router.post("/checks/{check_id}/token", dependencies=ADMIN, summary="New heartbeat URL")
async def rotate_token(request: Request, check_id: str) -> dict[str, Any]:
    env = env_of(request)
    record = await _record(env, check_id)
    if record["spec"]["type"] != "heartbeat":
        raise Conflict(f"check {check_id!r} is not a heartbeat check")
    token = secrets.token_urlsafe(24)
    await control.registry(env).set_token(check_id, control.hash_token(token))
    return {"heartbeat_url": _heartbeat_url(request, token)}


@router.get("/checks/{check_id}/results", dependencies=READ, summary="Every result, newest first")
async def results(
    request: Request,
    check_id: str,
    since: str | None = Query(None, description="Start: RFC 3339, epoch ms or `24h`."),
    until: str | None = Query(None, description="End (default now)."),
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = Query(None),
) -> dict[str, Any]:
    env = env_of(request)
    await _record(env, check_id)
    try:
        start, end = parse_window(since, until, host.now(), default_span=86_400.0)
    except TimeSpecError as error:
        raise Unprocessable(str(error)) from None
    before = decode_cursor(cursor).get("before")
    page: dict[str, Any] = await control.monitor(env, check_id).results_page(
        round(start * 1000), round(end * 1000) + 1, limit, before
    )
    following = page["next"]
    return {
        "check_id": check_id,
        "results": page["results"],
        "cursor": encode_cursor({"before": following}) if following is not None else None,
    }
