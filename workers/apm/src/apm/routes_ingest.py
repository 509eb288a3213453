"""Span intake: OTLP/HTTP `POST /v1/traces` and native JSON `POST /apm/spans`."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from apm import rows
from apm.ingest import ingest
from obs_schema import auth, host
from obs_schema.errors import InvalidJson, Unprocessable
from obs_schema.models.span import Span
from obs_schema.otlp import common, traces
from obs_schema.otlp import http as otlp_http
from obs_schema.otlp.common import OtlpError
from obs_schema.otlp.http import (
    INVALID_ARGUMENT,
    UNAVAILABLE,
    UNSUPPORTED_TYPE,
    status_response,
)

log = logging.getLogger("obs.apm")
router = APIRouter()
MAX_NATIVE_SPANS = 10_000

OTLP_DESCRIPTION = (
    "OTLP/HTTP traces (`application/x-protobuf` or `application/json`, optionally gzip). "
    "Answers `ExportTraceServiceResponse` in the request's encoding; spans that cannot be "
    "stored are counted in `partialSuccess.rejectedSpans` and the rest are kept."
)


@router.post(
    "/v1/traces",
    tags=["ingest"],
    summary="OTLP/HTTP trace export",
    description=OTLP_DESCRIPTION,
    dependencies=[Depends(auth.require("ingest"))],
    openapi_extra=otlp_http.REQUEST_BODY,
)
async def otlp_traces(request: Request) -> Response:
    kind = common.media_type(request.headers.get("content-type"))
    if kind is None:
        return status_response(common.JSON, 415, INVALID_ARGUMENT, UNSUPPORTED_TYPE)
    try:
        decoded = traces.decode(await request.body(), kind)
    except OtlpError as error:
        return status_response(kind, 400, INVALID_ARGUMENT, str(error))
    try:
        outcome = await ingest(request.scope["env"], decoded.spans, host.now_ms())
    except Exception:  # storage unavailable: OTLP clients retry 503 with backoff
        log.exception("storing %d spans failed", len(decoded.spans))
        reply = status_response(kind, 503, UNAVAILABLE, "span storage is unavailable; retry later")
        reply.headers["Retry-After"] = "5"
        return reply
    for _ in outcome.too_large:
        decoded.reject("span", "larger than 1 MB once stored")
    _count(request, outcome.accepted, outcome.duplicates, decoded.rejected)
    return Response(traces.answer(kind, decoded), status_code=200, media_type=kind)


def _count(request: Request, stored: int, duplicates: int, rejected: int) -> None:
    counter = request.app.state.spans_total
    for outcome, amount in (("stored", stored), ("duplicate", duplicates), ("rejected", rejected)):
        if amount:
            counter.labels(outcome=outcome).inc(amount)


SPANS_EXAMPLE = [Span.model_config["json_schema_extra"]["examples"][0]]  # type: ignore[index]


@router.post(
    "/apm/spans",
    tags=["ingest"],
    summary="Native JSON spans",
    description='A JSON array of spans (or `{"spans": [...]}`). Valid spans are stored even '
    "when others are rejected; each rejection names its index. 422 when none is valid.",
    dependencies=[Depends(auth.require("ingest"))],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": {"type": "object"}},
                    "example": SPANS_EXAMPLE,
                }
            },
        }
    },
)
async def native_spans(request: Request) -> JSONResponse:
    items = _items(await request.body())
    spans, rejected = [], []
    kept: list[int] = []  # the item index of each valid span
    for index, item in enumerate(items):
        try:
            spans.append(rows.from_model(Span.model_validate(item)))
            kept.append(index)
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(part) for part in problem.get("loc", ())) or "span"
            rejected.append({"index": index, "error": f"{where}: {problem.get('msg')}"})
    if not spans and rejected:
        message = f"no valid span in the batch ({len(rejected)} rejected)"
        raise Unprocessable(message, details=rejected[:100])
    outcome = await ingest(request.scope["env"], spans, host.now_ms())
    too_large = sorted(kept[i] for i in outcome.too_large)
    rejected += [{"index": i, "error": "larger than 1 MB once stored"} for i in too_large]
    _count(request, outcome.accepted, outcome.duplicates, len(rejected))
    return JSONResponse(
        {"accepted": outcome.accepted, "duplicates": outcome.duplicates, "rejected": rejected}
    )


def _items(body: bytes) -> list[Any]:
    try:
        data = json.loads(body or b"null")
    except ValueError as error:
        raise InvalidJson(f"request body is not valid JSON: {error}") from None
    if isinstance(data, dict) and isinstance(data.get("spans"), list):
        data = data["spans"]
    if not isinstance(data, list):
        raise Unprocessable('expected a JSON array of spans or {"spans": [...]}')
    if len(data) > MAX_NATIVE_SPANS:
        raise Unprocessable(f"at most {MAX_NATIVE_SPANS} spans per request")
    return data
