"""Small helpers the routers share."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from obs_schema import auth, host
from obs_schema.auth import Principal
from obs_schema.errors import BadRequest
from obs_schema.timespec import TimeSpecError, parse_instant


def env_of(request: Request) -> Any:
    return request.scope.get("env")


def actor(by: str, principal: Principal) -> str:
    """Who is acting: as told, else the token's scope."""
    return by.strip() or f"{principal.scope} token"


def instant_ms(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return round(parse_instant(value, host.now()) * 1000)
    except TimeSpecError as error:
        raise BadRequest(str(error)) from None


# Route parameters that demand a token with a scope (and give the principal).
Ingester = Annotated[Principal, Depends(auth.require("ingest"))]
Reader = Annotated[Principal, Depends(auth.require("read"))]
Admin = Annotated[Principal, Depends(auth.require("admin"))]
