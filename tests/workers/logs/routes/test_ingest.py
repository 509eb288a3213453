"""OTLP/HTTP logs in: the real OpenTelemetry SDK exporter over loopback, and the spec's answers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as service
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogRecordExportResult, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client.parser import text_string_to_metric_families

from localedge.clock import ManualClock
from localedge.gateway import Gateway
from tests.workers.logs.conftest import make_stack
from tests.workers.logs.helpers import INGEST, MARK, READ, T0_MS, query


class Server:
    """The stack behind uvicorn on 127.0.0.1:<free port>, in a thread with its own loop."""

    def __init__(self, data: Path) -> None:
        # The SDK stamps records with the real time: the manual clock starts there too.
        stack = make_stack(data, ManualClock(time.time()))
        config = uvicorn.Config(
            Gateway(stack), host="127.0.0.1", port=0, log_level="warning", ws="none"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        for _ in range(4000):  # wait for the socket without sleeping on a clock
            if self.server.started:
                break
            self.thread.join(0.005)
        assert self.server.started, "uvicorn did not start"
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    with Server(tmp_path / "data") as url:
        yield url


def log_with_the_sdk(
    url: str, compression: Compression, headers: dict[str, str]
) -> tuple[str, list[Any]]:
    exporter = OTLPLogExporter(endpoint=f"{url}/v1/logs", headers=headers, compression=compression)
    results: list[Any] = []

    class Recording(SimpleLogRecordProcessor):
        def on_emit(self, log_record: Any) -> None:
            results.append(exporter.export([log_record]))

    provider = LoggerProvider(resource=Resource.create({"service.name": "pitch-api"}))
    provider.add_log_record_processor(Recording(exporter))
    logger = provider.get_logger(f"tests.logs.otel.{compression.value}", "1.0")
    tracer = TracerProvider().get_tracer("tests.logs")
    with tracer.start_as_current_span("POST /pitches") as span:
        logger.emit(
            severity_number=SeverityNumber.ERROR,
            severity_text="ERROR",
            body="payment declined for alice@example.com",
            attributes={"order.id": 7},
        )
        logger.emit(severity_number=SeverityNumber.INFO, body="pitch saved")
        trace_id = f"{span.get_span_context().trace_id:032x}"
    provider.shutdown()
    return trace_id, results


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_the_opentelemetry_sdk_exports_logs_to_the_stack(
    served: str, compression: Compression
) -> None:
    trace_id, results = log_with_the_sdk(served, compression, dict(INGEST))
    assert results == [LogRecordExportResult.SUCCESS, LogRecordExportResult.SUCCESS]
    with httpx.Client(base_url=served, headers=READ) as client:
        found = client.get(f"/logs/trace/{trace_id}").json()["logs"]
    assert [(r["level"], r["message"], r["service"], r["source"]) for r in found] == [
        (
            "error",
            f"payment declined for {MARK('email', 'alice@example.com')}",
            "pitch-api",
            "otlp",
        ),
        ("info", "pitch saved", "pitch-api", "otlp"),
    ]
    assert found[0]["attributes"]["order.id"] == 7
    assert found[0]["attributes"]["scope"]["name"].startswith("tests.logs.otel")
    assert found[0]["span_id"] is not None


def test_the_sdk_is_refused_without_an_ingest_token(served: str) -> None:
    _, results = log_with_the_sdk(served, Compression.NoCompression, dict(READ))
    assert results == [LogRecordExportResult.FAILURE, LogRecordExportResult.FAILURE]


# --- the HTTP contract, in process ------------------------------------------------------------
def spec_json(*records: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "resourceLogs": [
                {
                    "resource": {
                        "attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]
                    },
                    "scopeLogs": [{"logRecords": list(records)}],
                }
            ]
        }
    ).encode()


GOOD = {
    "timeUnixNano": str(T0_MS * 1_000_000),
    "severityNumber": 17,
    "body": {"stringValue": "db timeout"},
}


@pytest.mark.anyio
async def test_json_export_answers_partial_success_in_json(http: httpx.AsyncClient) -> None:
    old = {**GOOD, "timeUnixNano": str((T0_MS - 30 * 86400_000) * 1_000_000)}
    body = spec_json(GOOD, {**GOOD, "traceId": "zz"}, old)
    reply = await http.post(
        "/v1/logs", content=body, headers={**INGEST, "content-type": "application/json"}
    )
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
    partial = reply.json()["partialSuccess"]
    assert partial["rejectedLogRecords"] == "2"
    assert "traceId must be 32 hex characters" in partial["errorMessage"]
    assert "older than the hot retention" in partial["errorMessage"]
    assert [r["message"] for r in (await query(http))["logs"]] == ["db timeout"]


@pytest.mark.anyio
async def test_a_full_success_is_an_empty_answer_in_the_request_encoding(
    http: httpx.AsyncClient,
) -> None:
    request = service.ExportLogsServiceRequest()
    record = request.resource_logs.add().scope_logs.add().log_records.add()
    record.time_unix_nano, record.body.string_value = T0_MS * 1_000_000, "hello"
    reply = await http.post(
        "/v1/logs",
        content=request.SerializeToString(),
        headers={**INGEST, "content-type": "application/x-protobuf"},
    )
    assert reply.status_code == 200 and reply.content == b""
    assert reply.headers["content-type"] == "application/x-protobuf"
    json_reply = await http.post(
        "/v1/logs", content=spec_json(GOOD), headers={**INGEST, "content-type": "application/json"}
    )
    assert json_reply.content == b"{}"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("text/plain", b"x", 415),
        ("application/x-protobuf", b"\xff\xff", 400),
        ("application/json", b"[1]", 400),
    ],
)
async def test_undecodable_exports_get_a_status_body(
    shared_http: httpx.AsyncClient, content_type: str, body: bytes, status: int
) -> None:
    reply = await shared_http.post(
        "/v1/logs", content=body, headers={**INGEST, "content-type": content_type}
    )
    assert reply.status_code == status
    if content_type == "application/json":
        assert reply.json()["code"] == 3 and reply.json()["message"]


async def series(http: httpx.AsyncClient) -> dict[tuple[str, ...], float]:
    """The logs Worker's own samples (module state outlives a stack, as in a warm isolate)."""
    text = (await http.get("/logs/metrics")).text
    return {
        (sample.name, *sorted(sample.labels.values())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("logs_")
    }


@pytest.mark.anyio
async def test_metrics_count_records_by_source_and_outcome(http: httpx.AsyncClient) -> None:
    before = await series(http)
    await http.post(
        "/logs/ingest", json=[{"message": "x", "service": "a"}, {"message": 1}], headers=INGEST
    )
    await http.post(
        "/v1/logs",
        content=spec_json(GOOD, {**GOOD, "traceId": "zz"}),
        headers={**INGEST, "content-type": "application/json"},
    )
    await http.get("/logs/query", headers=READ)
    after = await series(http)
    grown = {key: after[key] - before.get(key, 0.0) for key in after}
    records = "logs_records_received_total"
    assert {key: value for key, value in grown.items() if value} == {
        (records, "accepted", "http"): 1.0,
        (records, "http", "rejected"): 1.0,
        (records, "accepted", "otlp"): 1.0,
        (records, "otlp", "rejected"): 1.0,
        ("logs_searches_total", "query"): 1.0,
    }
