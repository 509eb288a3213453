"""OTLP/HTTP metric ingest against a real server process (`python -m localedge serve`).

Run: `.venv-bench/bin/python bench/infra/ingest_bench.py [--seconds 20] [--clients 4]` (about a
minute; `make bench-venv` creates that interpreter from /usr/bin/python3.11).

Each request is an `ExportMetricsServiceRequest` in protobuf with 2,000 data points (gauges,
cumulative counters and explicit-bucket histograms over 40 attribute sets, one resource), as an
OpenTelemetry SDK exports them. Four concurrent clients, each its own exporter (`service.name`),
post for a fixed time on loopback; each body is built once and stamped with the current time
per request (counter values stay put: the server's work per point is the same). The server is
one uvicorn process, as `make run` starts it. Client and server share this machine's CPUs.

Peers: the OpenTelemetry Collector is not installable here (no Debian or PyPI package), so its
published sizing figure is shown as a reference, not measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

ROOT = Path(__file__).resolve().parents[2]
STACK_ROOT = Path(os.environ.get("BENCH_STACK_ROOT") or ROOT)  # which tree of Workers to serve
POINTS_PER_REQUEST = 2000
CLIENTS = 4
SECONDS = 20.0
TOKEN = "bench-ingest"


def request_body(t_ns: int, start_ns: int, service: str = "bench") -> bytes:
    request = ExportMetricsServiceRequest()
    resource = request.resource_metrics.add()
    resource.resource.attributes.append(
        KeyValue(key="service.name", value=AnyValue(string_value=service))
    )
    scope = resource.scope_metrics.add()
    per_metric = 40
    for m in range(POINTS_PER_REQUEST // per_metric):
        metric = scope.metrics.add(name=f"bench.metric.{m}", unit="1")
        for a in range(per_metric):
            attrs = [KeyValue(key="route", value=AnyValue(string_value=f"/r/{a}")),
                     KeyValue(key="code", value=AnyValue(int_value=200 + a % 3))]  # fmt: skip
            if m % 3 == 0:
                point = metric.gauge.data_points.add(time_unix_nano=t_ns, as_double=a * 1.5)
            elif m % 3 == 1:
                metric.sum.aggregation_temporality = 2
                metric.sum.is_monotonic = True
                point = metric.sum.data_points.add(
                    time_unix_nano=t_ns, start_time_unix_nano=start_ns, as_int=t_ns // 10**9 + a
                )
            else:
                metric.histogram.aggregation_temporality = 2
                point = metric.histogram.data_points.add(
                    time_unix_nano=t_ns, start_time_unix_nano=start_ns, count=10, sum=1.25,
                    explicit_bounds=[0.01, 0.1, 1.0], bucket_counts=[2, 5, 2, 1],
                )  # fmt: skip
            point.attributes.extend(attrs)
    return bytes(request.SerializeToString())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBS_")}
    env.update(OBS_INGEST_TOKEN=TOKEN, OBS_READ_TOKEN="bench-read", OBS_ADMIN_TOKEN="bench-admin")
    log = (data / "server.log").open("wb")  # a file, not a pipe: a full pipe would stall it
    process = subprocess.Popen(
        [sys.executable, "-m", "localedge", "serve", "--port", str(port), "--data-dir", str(data),
         "--root", str(STACK_ROOT)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if b"Local stack ready" in (data / "server.log").read_bytes():
            return process, url
        time.sleep(0.2)
    raise RuntimeError("server did not start")


# A time no real request carries: its 8 bytes (fixed64) are replaced per request.
PLACEHOLDER_NS = 0x0BADC0DE0BADC0DE


def templates(start_ns: int) -> list[bytes]:
    """One body per client (its own `service.name`, so each series hears from one exporter,
    in order, as from an SDK), built once with a placeholder time."""
    return [request_body(PLACEHOLDER_NS, start_ns, f"bench-{c}") for c in range(CLIENTS)]


def stamped(template: bytes, t_ns: int) -> bytes:
    """The template with the current time: a byte replacement, so the load generator costs
    the server's CPU next to nothing (building 2,000 points in Python would cost tens of ms)."""
    old, new = PLACEHOLDER_NS.to_bytes(8, "little"), t_ns.to_bytes(8, "little")
    return template.replace(old, new)


async def run(url: str) -> tuple[int, float, list[float], int]:
    start_ns = time.time_ns() - 60 * 10**9
    bodies = templates(start_ns)
    headers = {"content-type": "application/x-protobuf", "authorization": f"Bearer {TOKEN}"}
    latencies: list[float] = []
    sent = rejected = 0
    offset = [0]
    deadline = time.perf_counter() + SECONDS

    async def client(http: httpx.AsyncClient, template: bytes) -> None:
        nonlocal sent, rejected
        while time.perf_counter() < deadline:
            offset[0] += 1
            body = stamped(template, time.time_ns() + offset[0] * 1000)
            began = time.perf_counter()
            reply = await http.post(f"{url}/v1/metrics", content=body, headers=headers)
            latencies.append((time.perf_counter() - began) * 1000)
            assert reply.status_code == 200, reply.text
            answer = ExportMetricsServiceResponse.FromString(reply.content)
            rejected += answer.partial_success.rejected_data_points
            sent += POINTS_PER_REQUEST

    began = time.perf_counter()
    async with httpx.AsyncClient(timeout=60) as http:
        await asyncio.gather(*(client(http, body) for body in bodies))
    return sent, time.perf_counter() - began, latencies, rejected


def main() -> None:
    global SECONDS, CLIENTS
    parser = argparse.ArgumentParser(description="OTLP/HTTP metric ingest on the local stack")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="how long clients post")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent exporters")
    args = parser.parse_args()
    SECONDS, CLIENTS = args.seconds, args.clients
    print(f"# OTLP metric ingest — {platform.python_implementation()} {platform.python_version()}")
    print(f"# {platform.machine()} {os.cpu_count()} CPUs, {platform.platform()}, "
          f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")  # fmt: skip
    print(
        f"# {POINTS_PER_REQUEST} points per protobuf request, {CLIENTS} clients, {SECONDS:.0f} s\n"
    )
    data = Path(tempfile.mkdtemp())
    process, url = start_server(data)
    try:
        sent, elapsed, latencies, rejected = asyncio.run(run(url))
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    size = sum(f.stat().st_size for f in data.rglob("*") if f.is_file())
    print("| | points/s | requests/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    print(f"| ours (local stack, 1 process) | {sent / elapsed:,.0f} | "
          f"{len(latencies) / elapsed:.1f} | {p50:.0f} | {p99:.0f} |")  # fmt: skip
    print(
        "| OpenTelemetry Collector (published sizing, not measured here) | "
        "~20,000 per CPU | — | — | — |"
    )
    print(f"\n# {sent:,} points sent, {rejected} rejected; {size / 2**20:.1f} MiB on disk")


if __name__ == "__main__":
    main()
