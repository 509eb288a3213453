"""What the three OTLP/HTTP routes (/v1/logs, /v1/traces, /v1/metrics) answer and document."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from obs_schema.otlp import common

INVALID_ARGUMENT, UNAVAILABLE = 3, 14  # google.rpc.Code
UNSUPPORTED_TYPE = "Content-Type must be application/x-protobuf or application/json"

# The OpenAPI request body of an export request: FastAPI cannot infer it from raw bytes.
REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {
            common.PROTOBUF: {"schema": {"type": "string", "format": "binary"}},
            common.JSON: {"schema": {"type": "object"}},
        }
    }
}


def status_response(kind: str, http_status: int, code: int, message: str) -> Response:
    """A `google.rpc.Status` answer in the request's encoding."""
    return Response(common.status(kind, code, message), status_code=http_status, media_type=kind)
