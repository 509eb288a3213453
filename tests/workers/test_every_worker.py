"""Every one of the six Workers, loaded from its real wrangler.toml and entry.py on the stack."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from localedge.clock import ManualClock
from localedge.gateway import Gateway
from localedge.sdk import Request
from localedge.stack import Stack, StackOptions
from tests.stacks import gateway_client

ROOT = Path(__file__).resolve().parents[2]
TOKENS = {"OBS_INGEST_TOKEN": "i-tok", "OBS_READ_TOKEN": "r-tok", "OBS_ADMIN_TOKEN": "a-tok"}
WORKERS = {
    "obs-monitoring": "monitoring",
    "obs-logs": "logs",
    "obs-apm": "apm",
    "obs-infra": "infra",
    "obs-alerting": "alerts",
    "obs-security": "security",
}
READ = {"authorization": "Bearer r-tok"}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    # One stack for the module: these tests only read, and starting six Workers is not free.
    data = tmp_path_factory.mktemp("every-worker")
    running = Stack(StackOptions(root=ROOT, data_dir=data, clock=ManualClock(), secrets=TOKENS))
    await running.start(run_timers=False)
    yield running
    await running.close()


@pytest.fixture(scope="module")
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(stack) as client:
        yield client


@pytest.mark.anyio
async def test_the_stack_loads_exactly_the_six_workers(stack: Stack) -> None:
    assert sorted(stack.workers) == sorted(WORKERS)


@pytest.mark.parametrize("prefix", WORKERS.values())
@pytest.mark.anyio
async def test_health_answers_healthy_with_binding_detail_for_readers(
    http: httpx.AsyncClient, prefix: str
) -> None:
    public = await http.get(f"/{prefix}/health")
    detail = await http.get(f"/{prefix}/health", headers=READ)
    assert public.status_code == 200 and public.json()["status"] == "healthy"
    assert detail.json()["components"]["CONFIG"]["status"] == "healthy"


@pytest.mark.parametrize("prefix", WORKERS.values())
@pytest.mark.anyio
async def test_metrics_parse_and_lint_clean(
    http: httpx.AsyncClient, prefix: str, promtool: str
) -> None:
    await http.get(f"/{prefix}/health")
    reply = await http.get(f"/{prefix}/metrics")
    assert reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = {f.name: f for f in text_string_to_metric_families(reply.text)}
    assert {"http_requests", "http_request_duration_seconds"} <= set(families)
    lint = subprocess.run(
        [promtool, "check", "metrics"], input=reply.text, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout
    as_json = (await http.get(f"/{prefix}/metrics?format=json")).json()
    assert "http_requests_total" in [m["name"] for m in as_json["metrics"]]


@pytest.mark.parametrize("prefix", WORKERS.values())
@pytest.mark.anyio
async def test_openapi_and_docs_are_served_under_the_prefix(
    http: httpx.AsyncClient, prefix: str
) -> None:
    spec = (await http.get(f"/{prefix}/openapi.json")).json()
    assert {f"/{prefix}/health", f"/{prefix}/metrics"} <= set(spec["paths"])
    docs = await http.get(f"/{prefix}/docs")
    assert docs.status_code == 200
    assert '"/vendor/swagger-ui/swagger-ui-bundle.js"' in docs.text  # served locally: offline


@pytest.mark.parametrize("prefix", WORKERS.values())
@pytest.mark.parametrize(
    ("method", "suffix", "body", "status", "code"),
    [
        ("GET", "/no-such-route", None, 404, "not_found"),
        ("POST", "/health", b"{}", 405, "method_not_allowed"),
        ("POST", "/no-such-route", b"x" * (16 * 1024 * 1024 + 1), 413, "payload_too_large"),
        ("POST", "/health", b"\x1f\x8bnot really gzip", 400, "bad_request"),
    ],
    ids=["unknown-route", "wrong-method", "oversized-body", "corrupt-gzip"],
)
@pytest.mark.anyio
async def test_bad_requests_get_the_json_error_model(
    http: httpx.AsyncClient,
    prefix: str,
    method: str,
    suffix: str,
    body: bytes | None,
    status: int,
    code: str,
) -> None:
    headers = {"content-encoding": "gzip"} if body and body.startswith(b"\x1f") else {}
    reply = await http.request(method, f"/{prefix}{suffix}", content=body, headers=headers)
    assert reply.status_code == status
    assert reply.json()["error"]["code"] == code


@pytest.mark.parametrize("worker", WORKERS)
@pytest.mark.anyio
async def test_the_entry_point_bridges_fetch_and_scheduled_to_the_app(
    stack: Stack, worker: str
) -> None:
    loaded = stack.worker(worker)
    entry = loaded.entrypoint()
    reply = await entry.fetch(Request(f"https://obs.pitchey.com/{WORKERS[worker]}/health"))
    assert reply.status == 200
    assert (await reply.json())["worker"] == WORKERS[worker].replace("alerts", "alerting")
    await loaded.scheduled("* * * * *", 0)  # runs the Worker's jobs for that cron, if any


@pytest.mark.anyio
async def test_unknown_paths_outside_every_worker_are_json_404s(http: httpx.AsyncClient) -> None:
    reply = await http.get("/nothing-here")
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "not_found"


@pytest.mark.anyio
async def test_the_dashboard_is_served_at_the_root_and_traversal_is_refused(
    stack: Stack,
) -> None:
    transport = httpx.ASGITransport(app=Gateway(stack, static_dir=ROOT / "dashboard"))
    async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
        index = await client.get("/")
        escape = await client.get("/../README.md")
        encoded = await client.get("/%2e%2e/README.md")
        bundle = await client.get("/vendor/swagger-ui/swagger-ui-bundle.js")
    assert index.status_code == 200 and "Pitchey observability" in index.text
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert escape.status_code == 404 and encoded.status_code == 404
