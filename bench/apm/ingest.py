"""OTLP/HTTP protobuf ingest rate against a real local-stack server process (loopback).

    .venv/bin/python bench/apm/ingest.py [--seconds 20] [--clients 4] [--spans 500] [--unique 0]

Export requests are built before the clock starts (traces of 10 spans over 3 services with
HTTP and database attributes, as instrumented services send them) and posted back to back by
`--clients` threads for `--seconds`; only acknowledged (200, nothing rejected) spans count.
`--unique N` adds N attributes whose value no other span has (request ids, full URLs): the
decoder remembers attributes it has seen, and these it cannot.
The stack runs as one process, as `make run` does; the client threads share the machine.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import httpx
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as service

from bench.apm.server import INGEST, Server, cpu_seconds, header, percentile

SERVICES = ("pitch-api", "pitch-search", "billing")
ROOT_ATTRIBUTES: dict[str, str | int] = {
    "http.route": "/pitches/{id}", "http.request.method": "GET", "http.response.status_code": 200,
    "url.scheme": "https", "server.address": "api.pitchey.com", "user_agent.original": "bench/1.0",
}  # fmt: skip
QUERY_ATTRIBUTES: dict[str, str | int] = {
    "db.system": "postgresql", "db.name": "pitchey", "server.address": "db.internal",
    "server.port": 5432,
}  # fmt: skip
STATEMENT = "SELECT * FROM pitches WHERE id = "


def request(spans: int, now_ns: int, unique: int = 0) -> bytes:
    body = service.ExportTraceServiceRequest()
    per_trace = 10
    for resource_index, name in enumerate(SERVICES):
        resource_spans = body.resource_spans.add()
        for key, value in (("service.name", name), ("host.name", f"web-{resource_index}")):
            attribute = resource_spans.resource.attributes.add()
            attribute.key, attribute.value.string_value = key, value
        scope = resource_spans.scope_spans.add()
        scope.scope.name = "opentelemetry.instrumentation.bench"
        for t in range(spans // per_trace // len(SERVICES)):
            trace_id = os.urandom(16)
            root = os.urandom(8)
            for s in range(per_trace):
                span = scope.spans.add()
                span.trace_id, span.span_id = trace_id, root if s == 0 else os.urandom(8)
                if s:
                    span.parent_span_id = root
                span.name = "GET /pitches/{id}" if s == 0 else "SELECT pitches"
                span.kind = 2 if s == 0 else 3
                span.start_time_unix_nano = now_ns + t * 1000 + s * 10
                span.end_time_unix_nano = span.start_time_unix_nano + 1_000_000 * (5 + s)
                attributes = (
                    ROOT_ATTRIBUTES
                    if s == 0
                    else {**QUERY_ATTRIBUTES, "db.statement": STATEMENT + str(s)}
                )
                for n in range(unique):
                    attributes = {**attributes, f"app.unique.{n}": os.urandom(8).hex()}
                for key, value in attributes.items():
                    attribute = span.attributes.add()
                    attribute.key = key
                    if isinstance(value, int):
                        attribute.value.int_value = value
                    else:
                        attribute.value.string_value = value
    return body.SerializeToString()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--spans", type=int, default=510)
    parser.add_argument("--unique", type=int, default=0, help="attributes unique to a span")
    args = parser.parse_args()
    payloads = [request(args.spans, time.time_ns(), args.unique) for _ in range(64)]
    spans_per_request = args.spans // 30 * 30
    print(header())
    with tempfile.TemporaryDirectory() as data, Server(Path(data)) as server:
        acknowledged, latencies, failures = [0], [], [0]
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds

        def client(offset: int) -> None:
            headers = {**INGEST, "content-type": "application/x-protobuf"}
            with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
                i = offset
                while time.monotonic() < stop:
                    started = time.perf_counter()
                    reply = http.post("/v1/traces", content=payloads[i % len(payloads)])
                    elapsed = time.perf_counter() - started
                    i += args.clients
                    ok = reply.status_code == 200 and reply.content == b""
                    with lock:
                        latencies.append(elapsed)
                        if ok:
                            acknowledged[0] += spans_per_request
                        else:
                            failures[0] += 1

        started, cpu_before = time.monotonic(), cpu_seconds(server.process.pid)
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        server_cpu = cpu_seconds(server.process.pid) - cpu_before
    rate = acknowledged[0] / elapsed
    print(
        f"{args.clients} clients, {spans_per_request} spans per request, "
        f"{args.unique} unique attributes a span, {elapsed:.1f} s"
    )
    per_cpu = acknowledged[0] / server_cpu if server_cpu else float("nan")
    print("| system | spans/s (wall) | spans per server CPU-second | requests | p50 ms | p95 ms "
          "| failed |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    print(
        f"| apm Worker on localedge (1 process) | {rate:,.0f} | {per_cpu:,.0f} | "
        f"{len(latencies):,} | {percentile(latencies, 0.5) * 1000:.1f} | "
        f"{percentile(latencies, 0.95) * 1000:.1f} | {failures[0]} |"
    )
    print(
        "| OpenTelemetry Collector (published figure; forwards only) | | ~12,000-15,000 | "
        "not run: no collector binary offline | | | |"
    )


if __name__ == "__main__":
    main()
