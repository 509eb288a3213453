"""The Worker's side of the alerting Durable Object: one `call(op, args)` RPC, errors mapped.

Every request handler and the cron job reach the hub through `Hub(env)`; a client error the
hub reports (`{"error": {"status", "message", "details"}}`) becomes the matching API error.
"""

from __future__ import annotations

from typing import Any

from obs_schema.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound, Unprocessable

BINDING = "ALERT_HUB"
OBJECT_NAME = "main"
_ERRORS: dict[int, type[ApiError]] = {
    400: BadRequest,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Unprocessable,
}


class Hub:
    def __init__(self, env: Any) -> None:
        self.stub = getattr(env, BINDING).getByName(OBJECT_NAME)

    async def call(self, op: str, **args: Any) -> Any:
        result = await self.stub.call(op, args)
        if isinstance(result, dict) and set(result) == {"error"}:
            error = result["error"]
            kind = _ERRORS.get(int(error.get("status", 400)), BadRequest)
            raise kind(
                str(error.get("message", "rejected")), details=list(error.get("details") or [])
            )
        return result
