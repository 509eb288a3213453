"""Ingest routes: `POST /logs/ingest` (JSON, NDJSON) and OTLP/HTTP `POST /v1/logs`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from logs.ingestion import IngestResult, edge_location, ingest
from logs.intake import BodyError, records_of
from logs.schemas import IngestAnswer
from logs.settings import settings_for
from obs_schema import auth
from obs_schema.errors import BadRequest, PayloadTooLarge, error_payload
from obs_schema.models.log import LogRecord
from obs_schema.otlp import common
from obs_schema.otlp import http as otlp_http
from obs_schema.otlp import logs as otlp_logs
from obs_schema.otlp.common import OtlpError
from obs_schema.otlp.http import (
    INVALID_ARGUMENT,
    UNAVAILABLE,
    UNSUPPORTED_TYPE,
    status_response,
)

log = logging.getLogger("logs.ingest")
router = APIRouter(tags=["ingest"])
RETRY_AFTER = "5"
EXAMPLE = LogRecord.model_config["json_schema_extra"]["examples"]  # type: ignore[index]


@router.post(
    "/logs/ingest",
    status_code=202,
    response_model=IngestAnswer,
    summary='Ingest log records (JSON array, {"logs": [...]}, or NDJSON; gzip welcome)',
    description=(
        "Each record: `timestamp` (RFC 3339 or epoch ms; absent: receive time), `level` "
        "(names, abbreviations, syslog 0-7, OpenTelemetry names), `message`, `service`, optional "
        "`trace_id`, `span_id`, `attributes` (nested JSON). Personal data is scrubbed before "
        "storage. Good records are stored even when others are rejected: the answer lists each "
        "rejection by index. 413 when the body or the record count is over the limit."
    ),
    dependencies=[Depends(auth.require("ingest"))],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": LogRecord.model_json_schema()},
                    "example": EXAMPLE,
                },
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
)
async def post_ingest(request: Request) -> JSONResponse:
    env = request.scope["env"]
    settings = settings_for(env)
    try:
        records = records_of(await request.body(), request.headers.get("content-type", ""))
    except BodyError as error:
        raise BadRequest(str(error)) from None
    if len(records) > settings.max_batch_records:
        raise PayloadTooLarge(
            f"a batch of {len(records)} records exceeds the limit of {settings.max_batch_records}"
        )
    result = await _ingest(env, records, "http", edge_location(request.headers, settings))
    _count(request, "http", result, 0)
    if result is None:
        return JSONResponse(
            error_payload("unavailable", "log storage is unavailable; retry later"),
            status_code=503,
            headers={"Retry-After": RETRY_AFTER},
        )
    return JSONResponse(result.answer(), status_code=202)


@router.post(
    "/v1/logs",
    summary="OTLP/HTTP log export",
    description=(
        "OTLP/HTTP logs (`application/x-protobuf` or `application/json`, optionally gzip). "
        "Answers `ExportLogsServiceResponse` in the request's encoding; records that cannot be "
        "stored are counted in `partialSuccess.rejectedLogRecords` and the rest are kept."
    ),
    dependencies=[Depends(auth.require("ingest"))],
    openapi_extra=otlp_http.REQUEST_BODY,
)
async def post_otlp(request: Request) -> Response:
    kind = common.media_type(request.headers.get("content-type"))
    if kind is None:
        return status_response(common.JSON, 415, INVALID_ARGUMENT, UNSUPPORTED_TYPE)
    try:
        decoded = otlp_logs.decode(await request.body(), kind)
    except OtlpError as error:
        return status_response(kind, 400, INVALID_ARGUMENT, str(error))
    env = request.scope["env"]
    edge = edge_location(request.headers, settings_for(env))
    result = await _ingest(env, decoded.records, "otlp", edge)
    _count(request, "otlp", result, decoded.rejected)
    if result is None:
        reply = status_response(kind, 503, UNAVAILABLE, "log storage is unavailable; retry later")
        reply.headers["Retry-After"] = RETRY_AFTER
        return reply
    rejected = decoded.rejected + result.rejections.count
    message = "; ".join(m for m in (decoded.error_message, result.rejections.summary()) if m)
    return Response(otlp_logs.answer(kind, rejected, message), status_code=200, media_type=kind)


async def _ingest(env: Any, records: list[Any], source: str, edge: str) -> IngestResult | None:
    """The ingest result, or None when storage failed (clients retry 503 with backoff)."""
    try:
        return await ingest(env, records, source=source, edge=edge, settings=settings_for(env))
    except Exception:
        log.exception("storing %d log records failed", len(records))
        return None


def _count(request: Request, source: str, result: IngestResult | None, undecoded: int) -> None:
    if result is not None:
        telemetry = request.app.state.telemetry
        telemetry.received(source, result.accepted, result.rejections.count + undecoded)
