"""What every Worker's ASGI app shares: docs, health, metrics, errors, limits, instrumentation.

A Worker declares itself with a `WorkerSpec` and adds its own routes to the app returned by
`create_app`; everything an operator relies on across the six Workers is built here once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig

from obs_schema import __version__, auth, handlers, health
from obs_schema.bodyguard import DEFAULT_MAX_BODY_BYTES, BodyGuard
from obs_schema.errors import ERROR_RESPONSES
from obs_schema.exposition import CONTENT_TYPE, render_json, render_text
from obs_schema.health import Probe
from obs_schema.instrumentation import ErrorReporter, Instrumentation, RequestMetrics
from obs_schema.metrics import Registry
from obs_schema.models.health import HealthReport
from obs_schema.sentry import SentryReporter
from obs_schema.telemetry import Telemetry

log = logging.getLogger("obs.app")

DOCS_ASSETS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"

__all__ = ["Probe", "WorkerSpec", "create_app"]

NO_NATIVE_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


@dataclass(frozen=True)
class WorkerSpec:
    name: str
    prefix: str  # "/logs": every route of the Worker lives under it
    title: str
    description: str
    probes: tuple[Probe, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # Extra detail for `/health` (read token): returns {"status": ..., **fields}; its status can
    # degrade the report (never make it unhealthy: that is for the Worker's own bindings).
    health_details: HealthDetails | None = None
    # False when the Worker serves its own /health (the monitoring Worker aggregates the stack).
    health_route: bool = True


HealthDetails = Callable[[Any], Awaitable[dict[str, Any]]]


def create_app(spec: WorkerSpec) -> FastAPI:
    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version=__version__,
        openapi_url=f"{spec.prefix}/openapi.json",
        docs_url=None,
        redoc_url=None,
        responses=ERROR_RESPONSES,
        # The Workers are instrumented by our own middleware (below) and binding telemetry;
        # FastAPI's OpenTelemetry bridge would trace every request a second time whenever a
        # global provider exists (an OTLP exporter in the same process), and its check of the
        # global providers alone costs ~6 µs per request.
        telemetry=NO_NATIVE_TELEMETRY,
    )
    registry = Registry()
    # Binding telemetry of this Worker, shipped to the infra Worker (see obs_schema.telemetry).
    telemetry = Telemetry(
        spec.name, kinds={p.binding: p.kind for p in spec.probes}, registry=registry
    )
    app.state.spec = spec
    app.state.registry = registry
    app.state.binding_telemetry = telemetry
    handlers.install(app)
    app.include_router(_operations_router(spec, registry))
    app.add_middleware(BodyGuard, max_body_bytes=spec.max_body_bytes)
    app.add_middleware(
        Instrumentation,
        metrics=RequestMetrics(registry),
        reporter=SentryReporters(spec.name),
        telemetry=telemetry,
    )
    return app


def _operations_router(spec: WorkerSpec, registry: Registry) -> APIRouter:
    router = APIRouter(prefix=spec.prefix, tags=["operations"])
    if spec.health_route:
        _add_health_route(router, spec)
    _add_docs_and_metrics_routes(router, spec, registry)
    return router


def _add_health_route(router: APIRouter, spec: WorkerSpec) -> None:
    @router.get(
        "/health",
        summary="Health of this Worker and its bindings",
        description="Overall status for anyone; per-binding detail with a `read` token. "
        "Answers 503 when unhealthy so load balancers and uptime checks notice.",
        responses={200: {"model": HealthReport}, 503: {"model": HealthReport}},
    )
    async def get_health(request: Request) -> JSONResponse:
        env = request.scope.get("env")
        authorization = request.headers.get("authorization")
        if authorization is not None:
            await auth.require("read")(request)
        report = await health.report(env, spec.name, __version__, spec.probes)
        if spec.health_details is not None:
            report = await _with_details(report, spec.health_details, env)
        if authorization is None:
            report = {k: report[k] for k in ("status", "worker", "version", "time")}
        return JSONResponse(report, status_code=503 if report["status"] == "unhealthy" else 200)


def _add_docs_and_metrics_routes(router: APIRouter, spec: WorkerSpec, registry: Registry) -> None:
    @router.get("/docs", include_in_schema=False)
    async def get_docs(request: Request) -> Response:
        # Asset origin is configurable so the docs render offline (local stack serves them).
        assets = str(getattr(request.scope.get("env"), "OBS_DOCS_ASSETS", "") or DOCS_ASSETS)
        return get_swagger_ui_html(
            openapi_url=f"{spec.prefix}/openapi.json",
            title=f"{spec.title} — API docs",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
        )

    @router.get(
        "/metrics",
        summary="Prometheus text exposition 0.0.4 (JSON with ?format=json)",
        response_class=Response,
    )
    async def get_metrics(request: Request, format: str = "text") -> Response:
        env = request.scope.get("env")
        if _truthy(getattr(env, "OBS_METRICS_REQUIRE_TOKEN", "")):
            await auth.require("read")(request)
        if format == "json":
            return JSONResponse(render_json(registry))
        return Response(render_text(registry), media_type=CONTENT_TYPE)


async def _with_details(report: dict[str, Any], details: HealthDetails, env: Any) -> dict[str, Any]:
    try:
        extra = await details(env)
    except Exception as error:
        log.error("health details failed: %s", type(error).__name__)
        return {**report, "status": _worse(report["status"], "degraded"), "details_error": True}
    status = _worse(report["status"], min_status(str(extra.pop("status", "healthy"))))
    return {**report, **extra, "status": status}


_ORDER = ("healthy", "degraded", "unhealthy")


def min_status(status: str) -> str:
    """Details may degrade a Worker's health, never make it unhealthy (a 503)."""
    return "degraded" if status == "unhealthy" else status if status in _ORDER else "degraded"


def _worse(a: str, b: str) -> str:
    return max(a, b, key=_ORDER.index)


class SentryReporters:
    """One reporter per DSN, made on first use from the Worker's `SENTRY_DSN` secret."""

    def __init__(self, worker: str) -> None:
        self.worker = worker
        self._by_dsn: dict[str, SentryReporter | None] = {}

    def __call__(self, env: Any) -> ErrorReporter | None:
        dsn = getattr(env, "SENTRY_DSN", None)
        if not isinstance(dsn, str) or not dsn:
            return None
        if dsn not in self._by_dsn:
            self._by_dsn[dsn] = self._make(dsn, str(getattr(env, "OBS_ENVIRONMENT", "production")))
        return self._by_dsn[dsn]

    def _make(self, dsn: str, environment: str) -> SentryReporter | None:
        try:
            return SentryReporter(dsn, worker=self.worker, environment=environment)
        except ValueError:
            log.error("SENTRY_DSN of %s is malformed; error reporting is off", self.worker)
            return None


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")
