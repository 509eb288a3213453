"""The one error model of every Worker (DESIGN §6) and the exception tree behind it.

Every failure a client can cause leaves as `{"error": {"code", "message", "details"}}` with the
right 4xx; anything else is a 500 carrying only an event id, never a stack trace or a secret.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `invalid_json`.")
    message: str = Field(description="What went wrong, for a human.")
    details: list[dict[str, Any]] = Field(default_factory=list, description="Per-field problems.")


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    """Raised anywhere in a Worker to answer with the error model."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def payload(self) -> dict[str, Any]:
        return error_payload(self.code, self.message, self.details)


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class InvalidJson(ApiError):
    status, code = 400, "invalid_json"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"

    def __init__(self, message: str) -> None:
        super().__init__(
            message, headers={"WWW-Authenticate": 'Bearer realm="pitchey-observability"'}
        )


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class Unprocessable(ApiError):
    status, code = 422, "validation_failed"


class TooManyRequests(ApiError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(0, retry_after_s))})


def error_payload(
    code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


# HTTP statuses Starlette raises itself (unknown route, wrong method) mapped to our codes.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}

# OpenAPI: the error shapes every route can answer with.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": code.replace("_", " ")}
    for status, code in STATUS_CODES.items()
    if status in (400, 401, 403, 413, 415, 422, 429)
}
