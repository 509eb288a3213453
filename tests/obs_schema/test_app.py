"""The scaffolding every Worker shares, exercised through HTTP on a small app built with it."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Depends
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel

from localedge.clock import ManualClock
from localedge.env import Env
from localedge.kv import KVNamespace
from obs_schema import auth, host
from obs_schema.app import Probe, WorkerSpec, create_app
from tests.receiver import receiver

TOKENS = {"OBS_INGEST_TOKEN": "i-tok", "OBS_READ_TOKEN": "r-tok", "OBS_ADMIN_TOKEN": "a-tok"}


class Item(BaseModel):
    name: str
    count: int


def build(probes: tuple[Probe, ...] = (), max_body_bytes: int = 1024) -> Any:
    spec = WorkerSpec("demo", "/demo", "Demo", "A demo Worker.", probes, max_body_bytes)
    app = create_app(spec)

    @app.post("/demo/items", dependencies=[Depends(auth.require("ingest"))])
    async def create_item(item: Item) -> dict[str, Any]:
        return {"stored": item.name}

    @app.get("/demo/boom")
    async def boom() -> None:
        raise RuntimeError("password=hunter2 leaked in a message")

    return app


@pytest.fixture
async def kv(tmp_path: Path) -> AsyncIterator[KVNamespace]:
    store = KVNamespace(tmp_path / "kv.sqlite", ManualClock())
    yield store
    store.close()


def client(app: Any, env: dict[str, Any]) -> httpx.AsyncClient:
    async def with_env(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await app(dict(scope, env=Env(env)), receive, send)

    transport = httpx.ASGITransport(app=with_env, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://demo")


@pytest.mark.anyio
async def test_health_is_public_in_summary_and_detailed_for_readers(kv: KVNamespace) -> None:
    env = {"CONFIG": kv, **TOKENS}
    async with client(build((Probe("CONFIG", "kv"),)), env) as http:
        public = await http.get("/demo/health")
        detail = await http.get("/demo/health", headers={"authorization": "Bearer r-tok"})
        wrong = await http.get("/demo/health", headers={"authorization": "Bearer bad"})
        weak = await http.get("/demo/health", headers={"authorization": "Bearer i-tok"})
    assert public.status_code == 200
    assert sorted(public.json()) == ["status", "time", "version", "worker"]
    assert public.json()["status"] == "healthy"
    assert detail.json()["components"]["CONFIG"]["status"] == "healthy"
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "unauthorized")
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    assert (weak.status_code, weak.json()["error"]["code"]) == (403, "forbidden")


@pytest.mark.anyio
async def test_health_is_unhealthy_with_503_when_every_binding_fails() -> None:
    async with client(build((Probe("CONFIG", "kv"),)), TOKENS) as http:
        reply = await http.get("/demo/health", headers={"authorization": "Bearer a-tok"})
    assert reply.status_code == 503
    assert reply.json()["components"]["CONFIG"]["detail"] == "binding not configured"


@pytest.mark.anyio
async def test_metrics_count_requests_by_route_template_and_lint_clean(promtool: str) -> None:
    async with client(build(), TOKENS) as http:
        await http.get("/demo/health")
        await http.get("/demo/nowhere/123")
        text = await http.get("/demo/metrics")
        as_json = await http.get("/demo/metrics?format=json")
    assert text.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text.text)
        for s in family.samples
    }
    health = (("method", "GET"), ("route", "/demo/health"), ("status", "200"))
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert samples[("http_requests_total", health)] == 1.0
    assert samples[("http_requests_total", unmatched)] == 1.0
    lint = subprocess.run(
        [promtool, "check", "metrics"], input=text.text, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout
    names = [m["name"] for m in as_json.json()["metrics"]]
    assert "http_requests_total" in names


@pytest.mark.anyio
async def test_a_compressed_request_is_counted_under_its_route() -> None:
    body = gzip.compress(b'{"name": "a", "count": 1}')
    headers = {
        "authorization": "Bearer i-tok",
        "content-type": "application/json",
        "content-encoding": "gzip",
    }
    async with client(build(), TOKENS) as http:
        stored = await http.post("/demo/items", content=body, headers=headers)
        text = (await http.get("/demo/metrics")).text
    assert stored.json() == {"stored": "a"}
    counted = {
        s.labels["route"]
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "http_requests_total" and s.labels["method"] == "POST"
    }
    assert counted == {"/demo/items"}


@pytest.mark.anyio
async def test_metrics_can_require_a_read_token() -> None:
    env = {**TOKENS, "OBS_METRICS_REQUIRE_TOKEN": "true"}
    async with client(build(), env) as http:
        anonymous = await http.get("/demo/metrics")
        reader = await http.get("/demo/metrics", headers={"authorization": "Bearer r-tok"})
    assert (anonymous.status_code, reader.status_code) == (401, 200)


@pytest.mark.anyio
async def test_openapi_and_docs_live_under_the_prefix() -> None:
    async with client(build(), TOKENS) as http:
        spec = await http.get("/demo/openapi.json")
        docs = await http.get("/demo/docs")
    assert {"/demo/health", "/demo/metrics", "/demo/items"} <= set(spec.json()["paths"])
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("GET", "/demo/missing", {}, 404, "not_found"),
        ("DELETE", "/demo/health", {}, 405, "method_not_allowed"),
        ("POST", "/demo/items", {"content": b'{"name": "x",'}, 400, "invalid_json"),
        ("POST", "/demo/items", {"json": {"name": "x", "count": "many"}}, 422, "validation_failed"),
        ("POST", "/demo/items", {"json": ["not", "an", "object"]}, 422, "validation_failed"),
        ("POST", "/demo/items", {"content": b"x" * 2048}, 413, "payload_too_large"),
        (
            "POST",
            "/demo/items",
            {"json": {"name": "é' OR 1=1 --", "count": "1e999"}},
            422,
            "validation_failed",
        ),
    ],
)
@pytest.mark.anyio
async def test_bad_requests_get_the_json_error_model(
    method: str, path: str, kwargs: dict[str, Any], status: int, code: str
) -> None:
    headers = {"authorization": "Bearer i-tok", "content-type": "application/json"}
    async with client(build(), TOKENS) as http:
        reply = await http.request(method, path, headers=headers, **kwargs)
    assert reply.status_code == status
    body = reply.json()
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "many" not in reply.text and "OR 1=1" not in reply.text  # input never echoed


@pytest.mark.parametrize(
    ("header", "status"),
    [(None, 401), ("Bearer r-tok", 403), ("Bearer i-tok", 200), ("Bearer a-tok", 200)],
)
@pytest.mark.anyio
async def test_routes_requiring_a_scope_check_the_token(header: str | None, status: int) -> None:
    headers = {"authorization": header} if header else {}
    async with client(build(), TOKENS) as http:
        reply = await http.post("/demo/items", json={"name": "a", "count": 1}, headers=headers)
    assert reply.status_code == status


@pytest.mark.anyio
async def test_an_unhandled_error_is_a_500_with_an_event_id_reported_to_sentry() -> None:
    host.reset()
    with receiver() as sentry:
        env = {**TOKENS, "SENTRY_DSN": f"http://publickey@{sentry.url[7:]}/42"}
        async with client(build(), env) as http:
            reply = await http.get("/demo/boom")
            await http.get("/demo/health")  # the app keeps serving
        await host.drain()
    assert reply.status_code == 500
    error = reply.json()["error"]
    assert error["code"] == "internal"
    event_id = error["details"][0]["event_id"]
    assert "hunter2" not in reply.text and "Traceback" not in reply.text
    [posted] = sentry.requests
    assert posted.path == "/api/42/envelope/"
    assert "sentry_key=publickey" in posted.headers["x-sentry-auth"]
    header, item, payload = posted.body.decode().splitlines()[:3]
    assert event_id in header and '"type":"event"' in item.replace(" ", "")
    assert "RuntimeError" in payload


class CountingKV(KVNamespace):
    """A real local KV that counts reads of the token record."""

    token_reads = 0

    async def get(self, key: Any, *args: Any, **kwargs: Any) -> Any:
        if key == auth.TOKENS_KEY:
            CountingKV.token_reads += 1
        return await super().get(key, *args, **kwargs)


@pytest.mark.anyio
async def test_token_hashes_are_read_from_kv_once_per_cache_period(tmp_path: Path) -> None:
    kv = CountingKV(tmp_path / "kv.sqlite", ManualClock())
    tokens = await auth.bootstrap_tokens(kv, {})
    assert tokens is not None
    CountingKV.token_reads = 0  # bootstrap looked once; count the requests' reads only
    reader = {"authorization": f"Bearer {tokens['read']}"}
    async with client(build((Probe("CONFIG", "kv"),)), {"CONFIG": kv}) as http:
        for _ in range(3):
            assert (await http.get("/demo/health", headers=reader)).status_code == 200
    kv.close()
    assert CountingKV.token_reads == 1


NO_DOUBLE_TRACING = """
import asyncio, httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tests.obs_schema.test_app import build

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

async def main():
    transport = httpx.ASGITransport(app=build())
    async with httpx.AsyncClient(transport=transport, base_url="http://w") as client:
        assert (await client.get("/demo/health")).status_code == 200
    with trace.get_tracer("probe").start_as_current_span("probe"):
        pass
    print(sorted(span.name for span in exporter.get_finished_spans()))

asyncio.run(main())
"""


def test_a_global_tracer_provider_does_not_make_fastapi_trace_requests_again() -> None:
    """Requests are measured by our middleware; FastAPI's own OpenTelemetry bridge stays off
    even when the process has a global provider (a fresh process: providers are set once)."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", NO_DOUBLE_TRACING],
        cwd=root,
        env={**os.environ, "PYTHONPATH": f"{root}:{root / 'shared'}"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == "['probe']"  # the provider works; no request spans
