"""1,000 HTTP checks a minute from one local stack process, on the real clock.

Measures, for the monitoring Worker running on `localedge`:
- jitter: how late each run starts after its due time (the Durable Object alarm's lag);
- CPU used by the stack process per 1,000 checks;
- the added latency of the monitoring path: time in the monitor's run beyond the probe's own
  request (storing the result, the state machine, the registry report), and the probe's
  measured latency against a direct httpx request to the same target.
Peers, same machine and same target in the same run: a plain asyncio loop (sleep until due,
then request) and APScheduler 3 (AsyncIOScheduler interval jobs) with the same httpx request.

    .venv/bin/python bench/monitoring/bench_checks.py [--checks 1000] [--seconds 120]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "workers" / "monitoring" / "src"))

from localedge.clock import SystemClock  # noqa: E402
from localedge.gateway import Gateway  # noqa: E402
from localedge.stack import Stack, StackOptions  # noqa: E402

TOKENS = {"OBS_INGEST_TOKEN": "i", "OBS_READ_TOKEN": "r", "OBS_ADMIN_TOKEN": "a"}
ADMIN = {"authorization": "Bearer a"}
INTERVAL_S = 60.0
IDLE_S = 60.0


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}
    pick = lambda p: ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]  # noqa: E731
    return {
        "n": len(ordered),
        "p50": pick(50),
        "p95": pick(95),
        "p99": pick(99),
        "max": ordered[-1],
    }


def start_target() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("target.py"))],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = process.stdout.readline().strip()
    return process, f"http://127.0.0.1:{port}/health"


class Instrument:
    """Times MonitorCore.run (the whole monitoring path) against its probe's latency."""

    def __init__(self) -> None:
        self.overhead_ms: list[float] = []
        self.probe_ms: list[float] = []

    def install(self) -> None:
        monitor = sys.modules["monitoring.monitor"]
        original = monitor.MonitorCore.run
        instrument = self

        async def run(core: Any, spec: dict[str, Any]) -> dict[str, Any]:
            started = time.perf_counter()
            result: dict[str, Any] = await original(core, spec)
            total = (time.perf_counter() - started) * 1000
            if result.get("latency_ms") is not None:
                instrument.probe_ms.append(result["latency_ms"])
                instrument.overhead_ms.append(total - result["latency_ms"])
            return result

        monitor.MonitorCore.run = run


async def direct_baseline(url: str, samples: int = 200) -> list[float]:
    """The same request the probe makes, sent directly (fresh client, cached TLS context)."""
    from monitoring.probes.http import tls_context

    found = []
    for _ in range(samples):
        async with httpx.AsyncClient(verify=tls_context(True), trust_env=False) as client:
            started = time.perf_counter()
            await client.get(url)
            found.append((time.perf_counter() - started) * 1000)
    return found


async def ours(url: str, checks: int, seconds: float) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="bench-monitoring-"))
    stack = Stack(StackOptions(root=ROOT, data_dir=data, clock=SystemClock(), secrets=TOKENS))
    await stack.start(run_timers=True)
    # localedge keeps at most 256 objects open and closes the least recently used (each close
    # checkpoints its SQLite file); Cloudflare runs every object in its own isolate. Hold all
    # monitors open, so the figures measure monitoring, not the emulator's file churn.
    stack.durable[("obs-monitoring", "Monitor")]._max_resident = checks + 64
    instrument = Instrument()
    instrument.install()
    # The stack process also runs the other five Workers' crons and background work: measure
    # it idle (no benchmark checks) for a full cron cycle, to report the checks' own CPU.
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(IDLE_S)
    idle_share = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    print(f"idle stack: {100 * idle_share:.1f}% of one core", file=sys.stderr)
    transport = httpx.ASGITransport(app=Gateway(stack))
    async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
        created = time.perf_counter()
        for n in range(checks):
            body = {"type": "http", "id": f"bench-{n}", "name": f"bench {n}", "url": url,
                    "interval": INTERVAL_S, "timeout": 5}  # fmt: skip
            reply = await client.post("/monitoring/checks", json=body, headers=ADMIN)
            assert reply.status_code == 201, reply.text
            # Spread creations over one interval, so runs are evenly spaced.
            await asyncio.sleep(
                max(0.0, created + (n + 1) * INTERVAL_S / checks - time.perf_counter())
            )
        print(f"created {checks} checks in {time.perf_counter() - created:.1f} s", file=sys.stderr)
        instrument.overhead_ms.clear()
        instrument.probe_ms.clear()
        cpu0, wall0, since_ms = time.process_time(), time.perf_counter(), int(time.time() * 1000)
        await asyncio.sleep(seconds)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        print(f"measured {wall:.1f} s; reading results", file=sys.stderr)
        lags, runs, failures = [], 0, 0
        for n in range(checks):
            page = (
                await stack.worker("obs-monitoring")
                .env.MONITOR.getByName(f"bench-{n}")
                .results_page(since_ms, since_ms + int(seconds * 1000), 1000, None)
            )
            for result in page["results"]:
                runs += 1
                failures += 0 if result["ok"] else 1
                lags.append(float(result["lag_ms"]))
    await stack.close()
    shutil.rmtree(data, ignore_errors=True)
    return {
        "runs": runs,
        "failures": failures,
        "lag_ms": percentiles(lags),
        "within_1s": sum(1 for lag in lags if lag <= 1000) / max(1, len(lags)),
        "cpu_per_1000": cpu / max(1, runs) * 1000,
        "cpu_share": cpu / wall,
        "net_cpu_per_1000": max(0.0, cpu - idle_share * wall) / max(1, runs) * 1000,
        "idle_share": idle_share,
        "overhead_ms": percentiles(instrument.overhead_ms),
        "probe_ms": percentiles(instrument.probe_ms),
    }


Job = Callable[[int, float], Awaitable[None]]
TLS = httpx.create_ssl_context()  # shared, as the probe shares its own


async def scheduled_peer(
    url: str, checks: int, seconds: float, start: Callable[[Job], Any]
) -> dict[str, Any]:
    lags: list[float] = []
    failures = 0

    async def job(n: int, due: float) -> None:
        nonlocal failures
        lags.append((time.time() - due) * 1000)
        try:
            async with httpx.AsyncClient(verify=TLS, trust_env=False, timeout=5) as client:
                reply = await client.get(url)
            failures += reply.status_code != 200
        except httpx.HTTPError:
            failures += 1

    stop = start(job)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    await stop()
    return {
        "runs": len(lags),
        "failures": failures,
        "lag_ms": percentiles(lags),
        "within_1s": sum(1 for lag in lags if lag <= 1000) / max(1, len(lags)),
        "cpu_per_1000": cpu / max(1, len(lags)) * 1000,
        "cpu_share": cpu / wall,
    }


def asyncio_loop(checks: int) -> Callable[..., Any]:
    def start(job: Callable[[int, float], Awaitable[None]]) -> Any:
        origin = time.time()

        async def every(n: int) -> None:
            due = origin + n * INTERVAL_S / checks
            while True:
                await asyncio.sleep(max(0.0, due - time.time()))
                asyncio.get_running_loop().create_task(job(n, due))
                due += INTERVAL_S

        tasks = [asyncio.get_running_loop().create_task(every(n)) for n in range(checks)]

        async def stop() -> None:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        return stop

    return start


def apscheduler_peer(checks: int) -> Callable[..., Any]:
    def start(job: Callable[[int, float], Awaitable[None]]) -> Any:
        from datetime import UTC, datetime, timedelta

        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        scheduler = AsyncIOScheduler(job_defaults={"misfire_grace_time": 30, "max_instances": 3})
        origin = datetime.now(UTC) + timedelta(seconds=1)
        for n in range(checks):
            first = origin + timedelta(seconds=n * INTERVAL_S / checks)

            async def run(n: int = n, first: datetime = first) -> None:
                elapsed = (datetime.now(UTC) - first).total_seconds()
                due = first.timestamp() + max(0, int(elapsed // INTERVAL_S)) * INTERVAL_S
                await job(n, due)

            scheduler.add_job(run, "interval", seconds=INTERVAL_S, start_date=first)
        scheduler.start()

        async def stop() -> None:
            scheduler.shutdown(wait=False)

        return stop

    return start


def row(name: str, figures: dict[str, Any] | str) -> str:
    if isinstance(figures, str):
        return f"| {name} | {figures} |||||||"
    lag = figures["lag_ms"]
    return (
        f"| {name} | {figures['runs']} | {figures['failures']} | {lag.get('p50', 0):.1f} | "
        f"{lag.get('p95', 0):.1f} | {lag.get('p99', 0):.1f} | {lag.get('max', 0):.1f} | "
        f"{100 * figures['within_1s']:.2f}% | {figures['cpu_per_1000']:.2f} s |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--peer-seconds", type=float, default=60.0)
    args = parser.parse_args()
    print(f"interpreter: {platform.python_implementation()} {platform.python_version()}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"{args.checks} HTTP checks every {INTERVAL_S:g} s against a local target server")
    target, url = start_target()
    try:
        baseline = percentiles(await direct_baseline(url))
        mine = await ours(url, args.checks, args.seconds)
        plain = await scheduled_peer(url, args.checks, args.peer_seconds, asyncio_loop(args.checks))
        try:
            aps: dict[str, Any] | str = await scheduled_peer(
                url, args.checks, args.peer_seconds, apscheduler_peer(args.checks)
            )
        except ImportError:
            aps = "not installed (pip install -r bench/monitoring/requirements.txt)"
    finally:
        target.terminate()
        target.wait()
    print()
    print(
        "| scheduler | runs | failed | lag p50 ms | p95 | p99 | max | within 1 s "
        "| CPU / 1,000 checks |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(row("monitoring Worker on localedge (DO alarm per check)", mine))
    print(row("plain asyncio loop + httpx", plain))
    print(row("APScheduler 3.11 AsyncIOScheduler + httpx", aps))
    print()
    over, probe = mine["overhead_ms"], mine["probe_ms"]
    print("| monitoring path, ms | p50 | p95 | p99 | max |")
    print("|---|---|---|---|---|")
    for name, figures in (
        ("direct httpx request to the target (baseline)", baseline),
        ("probe latency recorded by the monitor", probe),
        ("monitor run beyond the probe (store, state, report)", over),
    ):
        print(
            f"| {name} | "
            + " | ".join(f"{figures[k]:.2f}" for k in ("p50", "p95", "p99", "max"))
            + " |"
        )
    print(
        f"\nstack process CPU during the run: {100 * mine['cpu_share']:.1f}% of one core "
        f"({100 * mine['idle_share']:.1f}% when idle); net of the idle stack, "
        f"{mine['net_cpu_per_1000']:.2f} s CPU per 1,000 checks"
    )


if __name__ == "__main__":
    asyncio.run(main())
