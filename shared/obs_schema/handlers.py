"""FastAPI exception handlers that put every client error into the one error model."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from obs_schema.errors import STATUS_CODES, ApiError, InvalidJson, error_payload


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]


def respond(error: ApiError) -> JSONResponse:
    return JSONResponse(error.payload(), status_code=error.status, headers=error.headers)


async def _api_error(_: Request, error: ApiError) -> JSONResponse:
    return respond(error)


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    code = STATUS_CODES.get(error.status_code, "error")
    if error.status_code == 404:
        message = f"no route for {request.method} {request.url.path}"
    elif error.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(error.detail)
    return JSONResponse(
        error_payload(code, message), status_code=error.status_code, headers=error.headers
    )


async def _validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
    problems = error.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        reason = next(p for p in problems if p.get("type") == "json_invalid")
        detail = reason.get("ctx", {}).get("error", "malformed JSON")
        return respond(InvalidJson(f"request body is not valid JSON: {detail}"))
    details = [_detail(p) for p in problems]
    return JSONResponse(
        error_payload("validation_failed", _summary(details), details), status_code=422
    )


def _detail(problem: dict[str, Any]) -> dict[str, Any]:
    # Never echo `input`: a rejected field may be a password or a token.
    return {
        "loc": [str(part) for part in problem.get("loc", ())],
        "message": str(problem.get("msg", "invalid value")),
        "type": str(problem.get("type", "value_error")),
    }


def _summary(details: list[dict[str, Any]]) -> str:
    first = details[0] if details else {"loc": [], "message": "invalid request"}
    where = ".".join(first["loc"]) or "request"
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"{where}: {first['message']}{more}"
