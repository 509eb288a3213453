"""`POST /security/check` and `POST /security/outcomes`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from obs_schema import host
from security import checker, observer
from security.routes.access import Ingest
from security.schemas import BatchResult, CheckRequest, CheckResponse, Outcome, OutcomeBatch

router = APIRouter(prefix="/security", tags=["inspection"])


@router.post(
    "/check",
    response_model=CheckResponse,
    summary="Inspect one request: threats, rate limits, blocks, anomalies",
    description=(
        "Send what Pitchey's API Worker received; act on `action` (`allow`, `challenge`, "
        "`rate_limited`, `block`) and send back `headers` (RateLimit-*, Retry-After). "
        "Evidence is PII-scrubbed. Scope `ingest`."
    ),
)
async def post_check(request: Request, body: CheckRequest, _: Ingest) -> JSONResponse:
    env = request.scope["env"]
    payload = body.model_dump()
    answer = await checker.check(env, payload, request.app.state.telemetry, host.now_ms())
    # The hot path: the answer is built from our own typed values, so it goes out as it is
    # rather than through a second validation against the response model (kept for the docs).
    return JSONResponse(answer)


@router.post(
    "/outcomes",
    response_model=BatchResult,
    summary="Report responses and login results (feeds anomaly detection)",
    description=(
        '`{"outcomes": [{ip, status, path, route?, user_id?, login?: {account, success}}]}`. '
        "Each outcome is validated on its own: a bad one is listed in `rejected`, the good ones "
        "are kept. Scope `ingest`."
    ),
)
async def post_outcomes(request: Request, body: OutcomeBatch, _: Ingest) -> dict[str, Any]:
    env, telemetry, now = request.scope["env"], request.app.state.telemetry, host.now_ms()
    accepted, rejected, anomalies = 0, [], []
    for index, raw in enumerate(body.outcomes):
        try:
            outcome = Outcome.model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            rejected.append({"index": index, "error": f"{where}: {first.get('msg', 'invalid')}"})
            continue
        anomalies += await observer.observe(env, outcome.model_dump(), telemetry, now)
        accepted += 1
    return {"accepted": accepted, "rejected": rejected, "anomalies": anomalies}
