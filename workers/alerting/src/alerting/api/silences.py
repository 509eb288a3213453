"""Silences: `GET/POST /alerts/silences`, `GET/DELETE /alerts/silences/{id}`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Request

from alerting.api.bodies import SILENCE_EXAMPLE, SilenceCreated
from alerting.api.common import Admin, Reader, env_of
from alerting.client import Hub


def router() -> APIRouter:
    api = APIRouter(prefix="/alerts/silences", tags=["silences"])

    @api.get("", summary="List silences (newest first)")
    async def list_silences(
        request: Request,
        _: Reader,
        state: Literal["pending", "active", "expired"] | None = None,
    ) -> dict[str, Any]:
        result: dict[str, Any] = await Hub(env_of(request)).call("list_silences", state=state)
        return result

    @api.post(
        "",
        status_code=201,
        response_model=SilenceCreated,
        summary="Create a silence (or update one: give its id)",
        description="Alertmanager's postableSilence: `matchers` ({name, value, isRegex, "
        'isEqual}, or strings like `service=~"api|web"`), `startsAt`, `endsAt` (or '
        "`duration`), `createdBy`, `comment`. Times take RFC 3339 or `now+2h`.",
    )
    async def create(
        request: Request,
        _: Admin,
        body: Annotated[dict[str, Any], Body(examples=[SILENCE_EXAMPLE])],
    ) -> Any:
        return await Hub(env_of(request)).call("put_silence", body=body)

    @api.get("/{silence_id}", summary="One silence")
    async def get(request: Request, silence_id: str, _: Reader) -> dict[str, Any]:
        result: dict[str, Any] = await Hub(env_of(request)).call(
            "get_silence", silence_id=silence_id
        )
        return result

    @api.delete("/{silence_id}", summary="Expire a silence now")
    async def expire(request: Request, silence_id: str, _: Admin) -> dict[str, Any]:
        result: dict[str, Any] = await Hub(env_of(request)).call(
            "expire_silence", silence_id=silence_id
        )
        return result

    return api
