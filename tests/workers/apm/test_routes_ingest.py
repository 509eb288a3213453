"""Spans in: the real OpenTelemetry exporter, spec JSON, native JSON; kept across restarts."""

from __future__ import annotations

import copy
import gzip
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as service
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client.parser import text_string_to_metric_families

from localedge.clock import ManualClock
from localedge.gateway import Gateway
from localedge.stack import Stack, StackOptions
from tests.workers.apm.conftest import INGEST, READ, START, TOKENS, start_stack

TRACE = "5b8efff798038103d269b633813fc60c"
NS = 1_000_000_000
T0 = int(START * NS)


class Server:
    """The stack behind uvicorn on 127.0.0.1:<free port>, in a thread with its own loop."""

    def __init__(self, tree: Path, data: Path) -> None:
        # The SDK stamps spans with the real time: the manual clock starts there too.
        clock = ManualClock(time.time())
        stack = Stack(StackOptions(root=tree, data_dir=data, clock=clock, secrets=TOKENS))
        config = uvicorn.Config(
            Gateway(stack), host="127.0.0.1", port=0, log_level="warning", ws="none"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        started = threading.Event()
        for _ in range(2000):  # wait for the socket without sleeping on a clock
            if self.server.started:
                started.set()
                break
            self.thread.join(0.005)
        assert started.is_set(), "uvicorn did not start"
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture
def served(tree: Path, tmp_path: Path) -> Iterator[str]:
    with Server(tree, tmp_path / "data") as url:
        yield url


def export_with_the_sdk(url: str, compression: Compression) -> tuple[str, SpanExportResult]:
    exporter = OTLPSpanExporter(
        endpoint=f"{url}/v1/traces", headers=dict(INGEST), compression=compression
    )
    results: list[SpanExportResult] = []

    class Recording(SimpleSpanProcessor):
        def on_end(self, span: Any) -> None:
            results.append(exporter.export([span]))

    resource = Resource.create({"service.name": "pitch-api", "deployment.environment": "test"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(Recording(exporter))
    tracer = provider.get_tracer("tests.apm")
    with tracer.start_as_current_span("GET /pitches/{id}", kind=SpanKind.SERVER) as root:
        root.set_attribute("http.route", "/pitches/{id}")
        root.set_attribute("http.response.status_code", 500)
        with tracer.start_as_current_span("SELECT pitches", kind=SpanKind.CLIENT) as query:
            query.set_attribute("db.system", "postgresql")
            query.set_attribute("db.statement", "SELECT * FROM pitches WHERE id = 42")
        root.set_status(Status(StatusCode.ERROR, "boom"))
        trace_id = f"{root.get_span_context().trace_id:032x}"
    provider.shutdown()
    assert all(result is SpanExportResult.SUCCESS for result in results)
    return trace_id, results[-1]


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_the_opentelemetry_sdk_exports_to_the_stack(served: str, compression: Compression) -> None:
    trace_id, _ = export_with_the_sdk(served, compression)
    with httpx.Client(base_url=served, headers=READ) as client:
        trace = client.get(f"/apm/traces/{trace_id}").json()
        found = client.get("/apm/traces", params={"service": "pitch-api", "until": "now+5m"}).json()
        statements = client.get("/apm/db", params={"since": "30d"}).json()["statements"]
    assert [(s["name"], s["depth"], s["kind"]) for s in trace["spans"]] == [
        ("GET /pitches/{id}", 0, "server"),
        ("SELECT pitches", 1, "client"),
    ]
    root = trace["spans"][0]
    assert root["status"] == {"code": "error", "message": "boom"}
    assert root["resource"]["deployment.environment"] == "test"
    assert root["attributes"]["http.response.status_code"] == 500
    assert [t["trace_id"] for t in found["traces"]] == [trace_id]
    assert [s["fingerprint"] for s in statements] == ["select * from pitches where id = ?"]


def test_wrong_tokens_are_refused_before_reading_the_body(served: str) -> None:
    exporter = OTLPSpanExporter(endpoint=f"{served}/v1/traces", headers=dict(READ))
    assert exporter.export([]) is SpanExportResult.FAILURE  # 403: read scope cannot ingest
    reply = httpx.post(f"{served}/v1/traces", content=b"", headers={"content-type": "x"})
    assert reply.status_code == 401


# --- the HTTP contract, in process ------------------------------------------------------------
def spec_body(trace_id: str = TRACE, **span: Any) -> dict[str, Any]:
    base = {
        "traceId": trace_id,
        "spanId": "eee19b7ec3c1b174",
        "name": "GET /api/users",
        "kind": 2,
        "startTimeUnixNano": str(T0),
        "endTimeUnixNano": str(T0 + NS // 4),
        "attributes": [{"key": "http.route", "value": {"stringValue": "/api/users"}}],
        "status": {"code": 2, "message": "boom"},
    }
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "my.service"}}]}
    return {
        "resourceSpans": [
            {
                "resource": resource,
                "scopeSpans": [{"scope": {"name": "lib"}, "spans": [base | span]}],
            }
        ]
    }


@pytest.mark.anyio
async def test_spec_json_is_answered_in_json_with_partial_success_for_bad_spans(
    http: httpx.AsyncClient,
) -> None:
    body = spec_body()
    spans = body["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans.append({**copy.deepcopy(spans[0]), "spanId": "0" * 16})
    reply = await http.post("/v1/traces", json=body, headers=INGEST)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {
        "partialSuccess": {
            "rejectedSpans": "1",
            "errorMessage": "resourceSpans[0].scopeSpans[0].spans[1]: "
            "traceId and spanId are required and must not be all zero",
        }
    }
    trace = (await http.get(f"/apm/traces/{TRACE}", headers=READ)).json()
    assert [s["service"] for s in trace["spans"]] == ["my.service"]


@pytest.mark.anyio
async def test_protobuf_with_gzip_is_answered_in_protobuf(http: httpx.AsyncClient) -> None:
    request = service.ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    attribute = resource_spans.resource.attributes.add()
    attribute.key, attribute.value.string_value = "service.name", "pb"
    span = resource_spans.scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = bytes.fromhex(TRACE), b"\x01" * 8, "job"
    span.start_time_unix_nano, span.end_time_unix_nano = T0, T0 + 10
    headers = {**INGEST, "content-type": "application/x-protobuf", "content-encoding": "gzip"}
    reply = await http.post(
        "/v1/traces", content=gzip.compress(request.SerializeToString()), headers=headers
    )
    assert (reply.status_code, reply.headers["content-type"]) == (200, "application/x-protobuf")
    assert (
        service.ExportTraceServiceResponse.FromString(reply.content).partial_success.ByteSize() == 0
    )


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", b"[1]", 400),
        ("application/x-protobuf", b"\xff\xff\xff", 400),
        ("text/plain", b"{}", 415),
    ],
)
@pytest.mark.anyio
async def test_undecodable_exports_get_a_google_rpc_status(
    http: httpx.AsyncClient, content_type: str, body: bytes, status: int
) -> None:
    reply = await http.post(
        "/v1/traces", content=body, headers={**INGEST, "content-type": content_type}
    )
    assert reply.status_code == status
    if content_type == "application/json" or status == 415:
        assert reply.json()["code"] == 3


def native(span_id: str, parent: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "trace_id": TRACE,
        "span_id": span_id,
        "parent_span_id": parent,
        "name": "work",
        "service": "api",
        "start_ms": START * 1000,
        "end_ms": START * 1000 + 20,
        **fields,
    }


@pytest.mark.anyio
async def test_native_spans_keep_the_good_ones_and_name_the_bad_ones(
    http: httpx.AsyncClient,
) -> None:
    batch = [native("a" * 16), {"span_id": "b" * 16}, native("c" * 16, "a" * 16)]
    reply = await http.post("/apm/spans", json={"spans": batch}, headers=INGEST)
    assert reply.status_code == 200
    body = reply.json()
    assert (body["accepted"], body["duplicates"]) == (2, 0)
    assert [r["index"] for r in body["rejected"]] == [1]
    again = await http.post("/apm/spans", json=batch[:1], headers=INGEST)
    assert again.json() == {"accepted": 0, "duplicates": 1, "rejected": []}
    none = await http.post("/apm/spans", json=[{"x": 1}], headers=INGEST)
    assert none.status_code == 422 and none.json()["error"]["details"][0]["index"] == 0
    summary = (await http.get("/apm/summary", headers=READ)).json()
    assert summary["routes"][0]["requests"] == 1  # the retried root was not counted twice


@pytest.mark.anyio
async def test_late_and_out_of_order_spans_from_several_services_are_all_kept(
    http: httpx.AsyncClient,
) -> None:
    child = native("c" * 16, "a" * 16, service="db", start_ms=START * 1000 + 5)
    orphan_first = await http.post("/apm/spans", json=[child], headers=INGEST)
    early = (await http.get(f"/apm/traces/{TRACE}", headers=READ)).json()
    parent = await http.post("/apm/spans", json=[native("a" * 16)], headers=INGEST)
    late = (await http.get(f"/apm/traces/{TRACE}", headers=READ)).json()
    edges = (await http.get("/apm/services", headers=READ)).json()["edges"]
    assert orphan_first.status_code == parent.status_code == 200
    assert (early["orphan_count"], early["spans"][0]["orphan"]) == (1, True)
    assert [(s["span_id"][0], s["depth"], s["orphan"]) for s in late["spans"]] == [
        ("a", 0, False),
        ("c", 1, False),
    ]
    assert [(e["source"], e["target"], e["calls"]) for e in edges] == [("api", "db", 1)]


@pytest.mark.anyio
async def test_acknowledged_spans_survive_a_restart(tree: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = await start_stack(tree, data, ManualClock(START))
    transport = httpx.ASGITransport(app=Gateway(first))
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        reply = await client.post("/v1/traces", json=spec_body(), headers=INGEST)
    assert reply.status_code == 200
    await first.close()
    second = await start_stack(tree, data, ManualClock(START))
    transport = httpx.ASGITransport(app=Gateway(second))
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        trace = (await client.get(f"/apm/traces/{TRACE}", headers=READ)).json()
        summary = (await client.get("/apm/summary", headers=READ)).json()
    await second.close()
    assert trace["span_count"] == 1
    assert summary["routes"][0]["errors"] == 1
    assert json.dumps(summary["routes"][0]["route"]) == '"/api/users"'


@pytest.mark.anyio
async def test_span_outcomes_are_counted_in_the_workers_metrics(
    http: httpx.AsyncClient, promtool: str
) -> None:
    async def outcomes() -> dict[str, float]:
        text = (await http.get("/apm/metrics")).text
        lint = subprocess.run(
            [promtool, "check", "metrics"], input=text, capture_output=True, text=True
        )
        assert lint.returncode == 0, lint.stdout
        families = {f.name: f for f in text_string_to_metric_families(text)}
        return {s.labels["outcome"]: s.value for s in families["apm_spans_received"].samples}

    # The counters live per isolate (one app per process here): compare before and after.
    before = await outcomes()
    await http.post("/apm/spans", json=[native("a" * 16), {"bad": 1}], headers=INGEST)
    await http.post("/apm/spans", json=[native("a" * 16)], headers=INGEST)
    after = await outcomes()
    assert {k: after[k] - before.get(k, 0.0) for k in after} == {
        "stored": 1.0,
        "duplicate": 1.0,
        "rejected": 1.0,
    }
