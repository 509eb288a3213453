"""Shared pieces of the alerting benchmarks: the machine header, a real local-stack server,
a webhook receiver that timestamps arrivals, Alertmanager and Prometheus processes, tables."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
TOKENS = {
    "OBS_INGEST_TOKEN": "bench-ingest",
    "OBS_READ_TOKEN": "bench-read",
    "OBS_ADMIN_TOKEN": "bench-admin",
}
INGEST = {"authorization": "Bearer bench-ingest"}
READ = {"authorization": "Bearer bench-read"}
ADMIN = {"authorization": "Bearer bench-admin"}
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
PROMETHEUS = shutil.which("prometheus")


def header(title: str) -> None:
    print(f"interpreter: {platform.python_implementation()} {platform.python_version()}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(title)
    print()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "max": max(values) if values else float("nan"),
        "mean": statistics.fmean(values) if values else float("nan"),
    }


def table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * width for width in widths))
    print()


# --- a webhook receiver that timestamps every arrival ------------------------------------


@dataclass
class Arrival:
    at: float
    path: str
    body: dict[str, Any]


@dataclass
class Inbox:
    url: str
    arrivals: list[Arrival] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def wait_for(self, predicate: Any, timeout: float) -> Arrival | None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = next((a for a in self.arrivals if predicate(a)), None)
                left = deadline - time.monotonic()
                if found or left <= 0:
                    return found
                self.changed.wait(left)


@contextmanager
def inbox() -> Iterator[Inbox]:
    state = Inbox(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            arrived = time.time()
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()
            try:
                parsed = json.loads(body or b"{}")
            except ValueError:
                parsed = {}
            with state.changed:
                state.arrivals.append(Arrival(arrived, self.path, parsed))
                state.changed.notify_all()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# --- processes ---------------------------------------------------------------------------


class Stack:
    """`python -m localedge serve` (all six Workers, real clock) on a free loopback port."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **TOKENS, "OBS_PORT": str(self.port), "OBS_DATA_DIR": str(data_dir)}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "localedge",
                "serve",
                "--root",
                str(ROOT),
                "--port",
                str(self.port),
                "--data-dir",
                str(data_dir),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def __enter__(self) -> Stack:
        wait_ready(f"{self.url}/alerts/health", self.process, "the local stack")
        return self

    def __exit__(self, *_: object) -> None:
        stop(self.process)


class Exporter:
    """A Prometheus scrape target on loopback serving `render()`'s text at each scrape."""

    def __init__(self, render: Callable[[], str]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = render().encode()
                self.send_response(200)
                self.send_header("content-type", "text/plain; version=0.0.4")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.target = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def error_rates(values: Mapping[str, float]) -> str:
    """`bench_error_rate{service=...}` lines for each service's value."""
    lines = ["# TYPE bench_error_rate gauge"]
    lines += [f'bench_error_rate{{service="{s}"}} {value}' for s, value in values.items()]
    return "\n".join(lines) + "\n"


def wait_ready(url: str, process: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"{what} did not become ready")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def alertmanager(config: dict[str, Any], workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Alertmanager on loopback, clustering off, with `config` (JSON is valid YAML)."""
    if ALERTMANAGER is None:
        raise RuntimeError(
            "prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)"
        )
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "alertmanager.yml"
    path.write_text(json.dumps(config))
    process = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={path}",
            f"--storage.path={workdir / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(f"{url}/-/ready", process, "Alertmanager")
    return process, url


def prometheus(
    config: dict[str, Any], rules: dict[str, Any], workdir: Path, name: str
) -> tuple[subprocess.Popen[bytes], str]:
    if PROMETHEUS is None:
        raise RuntimeError("prometheus is not installed (apt-get install prometheus)")
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    rules_path = workdir / f"{name}-rules.yml"
    rules_path.write_text(json.dumps(rules))
    config_path = workdir / f"{name}.yml"
    config_path.write_text(json.dumps({**config, "rule_files": [str(rules_path)]}))
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config_path}",
            f"--storage.tsdb.path={workdir / (name + '-data')}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(f"{url}/-/ready", process, f"Prometheus ({name})")
    return process, url


def version(binary: str | None) -> str:
    """`0.25.0` from `alertmanager, version 0.25.0+ds (branch: ...)`."""
    if binary is None:
        return "not installed"
    out = subprocess.run([binary, "--version"], capture_output=True, text=True)
    found = re.search(r"version (\d+\.\d+\.\d+)", out.stdout + out.stderr)
    return found.group(1) if found else "unknown version"
