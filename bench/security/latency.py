"""`/security/check` latency in-process (detector alone, the checker with its Durable Object
shards and KV, and the whole ASGI app), and checks per second over HTTP on a real server
process (`python -m localedge serve`) on loopback, driven by wrk beside the same server's
trivial route. Bounded: fixed request counts, `--seconds` of HTTP per route.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import corpus
import httpx
from evaluate import request_for
from machine import ROOT, header

from localedge.gateway import Gateway
from localedge.stack import Stack, StackOptions
from security.detect.engine import Detector

TOKENS = {"OBS_INGEST_TOKEN": "bench-i", "OBS_READ_TOKEN": "bench-r", "OBS_ADMIN_TOKEN": "bench-a"}
INGEST = {"authorization": "Bearer bench-i"}


def mix(n: int) -> list[dict[str, object]]:
    """Check bodies: 90% benign (search, JSON, code), 10% attacks, from the corpus."""
    data, rng = corpus.load(), random.Random(11)
    benign = data.benign["search"] + data.benign["json"] + data.benign["code"]
    attacks = [s for kind in ("sqli", "xss", "path_traversal", "ssrf") for s in data.attacks[kind]]
    bodies = []
    for i in range(n):
        sample = rng.choice(attacks if i % 10 == 0 else benign)
        request = request_for(sample)
        bodies.append(
            {
                "ip": f"198.51.{i % 200}.{i % 250 + 1}",
                "method": request.method,
                "path": request.path,
                "query": request.query,
                "headers": dict(request.headers),
                "body": request.body,
                "route": request.path,
            }
        )
    return bodies


def percentiles(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return f"p50 {q[49] * 1e3:6.3f}  p95 {q[94] * 1e3:6.3f}  p99 {q[98] * 1e3:6.3f} ms"


class Clocks:
    """Wall time and this process's CPU time of each call: on a shared, loaded machine the
    wall-clock tail is mostly waiting for a CPU; CPU time is what the check itself costs."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> Clocks:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.cpu.append(time.process_time() - self._cpu)
        self.wall.append(time.perf_counter() - self._wall)

    def row(self, name: str) -> str:
        return f"{name:<42}wall {percentiles(self.wall)}\n{'':<42}CPU  {percentiles(self.cpu)}"


def server_cpu_seconds(pid: int) -> float:
    """CPU (user + system) of the server and its isolate processes (`--isolates`)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return own + sum(server_cpu_seconds(int(child)) for child in children)


def detector_only(bodies: list[dict[str, object]]) -> str:
    detector = Detector()
    requests = [
        request_for(corpus.Sample(str(b["query"])[2:], "x"))
        if b["query"]
        else request_for(corpus.Sample(str(b["body"]), "x", "json"))
        for b in bodies
    ]
    clocks = Clocks()
    for request in requests:
        with clocks:
            detector.inspect(request)
    return clocks.row("detector alone (pure)")


async def in_process(bodies: list[dict[str, object]]) -> tuple[str, str]:
    with tempfile.TemporaryDirectory() as data:
        stack = Stack(StackOptions(root=ROOT, data_dir=Path(data), secrets=TOKENS))
        await stack.start(run_timers=False)
        try:
            worker = stack.worker("obs-security")
            checker = sys.modules["security.checker"]
            telemetry = sys.modules["security.app"].telemetry
            # Warm-up: every shard object constructed once (schema, first statements), as on
            # Cloudflare where objects stay resident; the timed checks still meet new keys.
            for n in range(200):
                await checker.check(
                    worker.env,
                    {"ip": f"192.0.2.{n % 250}", "path": "/"},
                    telemetry,
                    int(time.time() * 1000),
                )
            await stack.drain()
            direct = Clocks()
            started = time.process_time()
            for body in bodies:
                with direct:
                    await checker.check(worker.env, body, telemetry, int(time.time() * 1000))
                await asyncio.sleep(0)  # between requests: queued batches go to the shards
            await stack.drain()
            amortised = (time.process_time() - started) / len(bodies)
            transport = httpx.ASGITransport(app=Gateway(stack))
            asgi = Clocks()
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for body in bodies:
                    with asgi:
                        reply = await client.post("/security/check", json=body, headers=INGEST)
                    assert reply.status_code == 200, reply.text
                    await asyncio.sleep(0)
            await stack.drain()
        finally:
            await stack.close()
    return (
        direct.row("checker (1,000 sources, each new once)")
        + f"\n{'':<42}CPU per check with its share of batches: {amortised * 1e3:.3f} ms",
        asgi.row("whole app, ASGI (same checks again)"),
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wrk_script(bodies: list[dict[str, object]], directory: str, name: str = "check.lua") -> str:
    """A wrk Lua script cycling through the check bodies (a C client leaves the CPUs to the
    server, where a Python client would compete with it)."""
    chunks = ",\n".join(f"[==[{json.dumps(b)}]==]" for b in bodies)
    token = TOKENS["OBS_INGEST_TOKEN"]
    script = Path(directory) / name
    script.write_text(
        f"local bodies = {{\n{chunks}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n"
        '  return wrk.format("POST", "/security/check", {["Content-Type"] = "application/json",'
        f' ["Authorization"] = "Bearer {token}"}}, bodies[(i % #bodies) + 1])\n'
        "end\n"
    )
    return str(script)


@dataclass
class Run:
    rate: float  # requests per wall second, as wrk counted them
    server_cpu_ms: float  # server CPU (user + system) per request
    p99_ms: float
    problem: str | None = None


def wrk(port: int, args: argparse.Namespace, script: str | None, path: str, pid: int) -> Run:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s"]
    command += ["--latency", *(["-s", script] if script else [])]
    cpu = server_cpu_seconds(pid)
    result = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        timeout=args.seconds + 30,
        check=False,
    )
    used = server_cpu_seconds(pid) - cpu
    found = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    total = re.search(r"(\d+) requests in", result.stdout)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", result.stdout)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    if found is None or total is None:
        return Run(0, 0, 0, f"wrk failed: {result.stderr[:80]}")
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    latency = float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
    run = Run(float(found.group(1)), used * 1e3 / max(1, int(total.group(1))), latency)
    if non2xx:
        run.problem = f"{non2xx.group(1)} non-2xx answers"
    return run


async def over_http(
    bodies: list[dict[str, object]], args: argparse.Namespace, isolates: int
) -> list[Run]:
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, **TOKENS, "PYTHONPATH": f"{ROOT}:{ROOT / 'shared'}"}
        command = [sys.executable, "-m", "localedge", "serve", "--port", str(port)]
        printed = Path(data) / "server.out"
        with printed.open("w") as out:
            server = subprocess.Popen(  # noqa: ASYNC220 - started once, before any timing
                [*command, "--data-dir", data, "--isolates", str(isolates)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.DEVNULL,
            )
        try:
            for _ in range(1200):  # every isolate serves once this is printed
                if "Local stack ready" in printed.read_text():
                    break
                await asyncio.sleep(0.1)
            mixed = wrk_script(bodies, data)
            flood = wrk_script([{**bodies[1], "ip": "203.0.113.99"}], data, "flood.lua")
            runs = []
            for path, lua in (
                ("/security/health", None),
                ("/security/check", mixed),  # from cold: every source is new at first
                ("/security/check", mixed),  # again: every source known, as in service
                ("/security/check", flood),
            ):
                runs.append(await asyncio.to_thread(wrk, port, args, lua, path, server.pid))
            return runs
        finally:
            server.terminate()
            server.wait(10)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checks", type=int, default=3000, help="in-process checks timed")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per route")
    parser.add_argument("--connections", type=int, default=8, help="wrk keep-alive connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--isolates",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 2],
        help="server isolate processes, one HTTP run per value (comma-separated)",
    )
    return parser.parse_args()


async def main() -> None:
    args = arguments()
    print(header("security /security/check latency and throughput"))
    bodies = mix(args.checks)
    print(f"{args.checks} checks: 90% benign (search, JSON bodies, code), 10% attacks")
    print(detector_only(bodies))
    for row in await in_process(bodies):
        print(row)
    if shutil.which("wrk") is None:
        print("\nwrk not installed: no HTTP figures")
        return
    print(
        "\nreal server (python -m localedge serve --isolates N, this interpreter) on loopback, "
        f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, "
        f"the {len(bodies)} check bodies cycled (from a cold start, whose first pass meets "
        "1,000 new sources, each decided with its shard; then again, every source known); "
        "then one benign body from one source, which its per-IP limit (600/min) refuses "
        "after the first 600. Server CPU counts every isolate process:"
    )
    print(f"{'':<46}{'requests/s':>12}{'server CPU/request':>20}{'wrk p99':>10}")
    for isolates in args.isolates:
        health, cold, warm, flood = await over_http(bodies, args, isolates)
        for name, run in (
            ("GET /security/health (no work)", health),
            ("POST /security/check, the mix", cold),
            ("POST /security/check, the mix again", warm),
            ("POST /security/check, one source", flood),
        ):
            note = f"   ({run.problem})" if run.problem else ""
            label = f"{isolates} isolate{'s' if isolates > 1 else ''}: {name}"
            print(
                f"{label:<46}{run.rate:>12,.0f}{run.server_cpu_ms:>17.3f} ms"
                f"{run.p99_ms:>7.2f} ms{note}"
            )


if __name__ == "__main__":
    asyncio.run(main())
