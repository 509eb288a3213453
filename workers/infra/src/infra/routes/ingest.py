"""Metric intake: OTLP/HTTP (`POST /v1/metrics`) and native JSON (`POST /infra/metrics`)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from infra import intake, otlpwire, store
from infra.samples import Batch
from obs_schema import auth, host
from obs_schema.errors import InvalidJson, Unprocessable, UnsupportedMediaType
from obs_schema.models.metric import MetricPoint
from obs_schema.otlp import common, metrics
from obs_schema.otlp import http as otlp_http
from obs_schema.otlp.http import INVALID_ARGUMENT, status_response

router = APIRouter(tags=["ingest"])
_POINT = TypeAdapter(MetricPoint)
MAX_NATIVE_POINTS = 10_000


class Rejection(BaseModel):
    index: int
    error: str


class IngestReply(BaseModel):
    accepted: int = Field(description="Valid points handed to the store.")
    rejected: list[Rejection] = Field(description="Invalid points, by index, with the reason.")
    refused: int = Field(0, description="Samples the store refused (too old, series limit).")
    errors: list[str] = Field(default_factory=list, description="Why the store refused them.")


@router.post(
    "/v1/metrics",
    summary="OTLP/HTTP metrics (protobuf or JSON)",
    description="An `ExportMetricsServiceRequest`; answered in the encoding it came in, with "
    "`partialSuccess.rejectedDataPoints` when some points could not be stored.",
    dependencies=[Depends(auth.require("ingest"))],
    response_class=Response,
    openapi_extra=otlp_http.REQUEST_BODY,
)
async def post_otlp(request: Request) -> Response:
    kind = common.media_type(request.headers.get("content-type"))
    if kind is None:
        raise UnsupportedMediaType("use application/x-protobuf or application/json")
    body, batch = await request.body(), Batch()
    try:
        # Protobuf takes the fast path when it can; JSON and rare kinds the shared decoder.
        fast = otlpwire.decode_into(batch, body) if kind == common.PROTOBUF else None
        if fast is None:
            batch = Batch()
            decoded = metrics.decode(body, kind)
            intake.add_otlp(batch, decoded.points)
        else:
            decoded = fast
    except common.OtlpError as error:
        return status_response(kind, 400, INVALID_ARGUMENT, str(error))
    stored = await store.write(request.scope["env"], batch, host.now_ms())
    if stored["rejected"]:
        decoded.rejected += stored["rejected"]
        decoded.errors.extend(stored["errors"][:2])
    return Response(metrics.answer(kind, decoded), media_type=kind)


@router.post(
    "/infra/metrics",
    summary="Native JSON metric points",
    description='A JSON array of `MetricPoint` (or `{"points": [...]}`). Good points are '
    "stored even when others are refused; 422 only when none could be.",
    dependencies=[Depends(auth.require("ingest"))],
    response_model=IngestReply,
)
async def post_native(request: Request) -> IngestReply:
    items = _items(await request.body())
    batch, rejected, now_ms = Batch(), [], host.now_ms()
    for index, item in enumerate(items):
        try:
            intake.add_native(batch, _POINT.validate_python(item), now_ms)
        except ValidationError as error:
            rejected.append(Rejection(index=index, error=_first_problem(error)))
    if items and not batch.points:
        details = [r.model_dump() for r in rejected[:50]]
        raise Unprocessable("no point could be stored", details=details)
    stored = await store.write(request.scope["env"], batch, now_ms) if batch.points else None
    return IngestReply(
        accepted=len(items) - len(rejected),
        rejected=rejected,
        refused=int(stored["rejected"]) if stored else 0,
        errors=list(stored["errors"]) if stored else [],
    )


def _items(body: bytes) -> list[Any]:
    try:
        data = json.loads(body or b"[]")
    except ValueError as error:
        raise InvalidJson(f"request body is not valid JSON: {error}") from None
    items = data.get("points") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise Unprocessable('send a JSON array of points, or {"points": [...]}')
    if len(items) > MAX_NATIVE_POINTS:
        raise Unprocessable(f"at most {MAX_NATIVE_POINTS} points per request")
    return items


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem.get("loc", ())) or "point"
    return f"{where}: {problem.get('msg', 'invalid')}"[:300]
