"""1,000 rules evaluated per cycle: our rule cycle vs Prometheus' rule group evaluation.

Our cycle is what the every-minute cron runs: ask the five other Workers for `snapshot()` over
their service bindings, evaluate every rule in the alerting Durable Object, and ingest the
alerts they raise (half of the rules breach, so about 500 alerts are re-sent each cycle). The
stack runs in this process; the APM and logs Workers' snapshots are scripted with 1,000
services (800 threshold rules, 100 rate-of-change rules, 100 absence rules). Prometheus
evaluates 1,000 alerting rules over 1,000 scraped series from a local exporter; its own
`prometheus_rule_group_last_duration_seconds` is the figure (evaluation only: no scrape, and
sending to Alertmanager is asynchronous there).

    .venv/bin/python -m bench.alerting.rules              # --rules 1000 --cycles 6
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.alerting.common import (
    ADMIN,
    PROMETHEUS,
    TOKENS,
    Exporter,
    error_rates,
    header,
    prometheus,
    stop,
    table,
)
from bench.alerting.common import version as binary_version
from localedge.clock import ManualClock
from localedge.gateway import Gateway
from localedge.stack import Stack, StackOptions


def services(count: int) -> list[str]:
    return [f"svc-{i}" for i in range(count)]


def rules(count: int) -> list[dict[str, Any]]:
    names = services(count)
    threshold = int(count * 0.8)
    out: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        if i < threshold:
            out.append(
                {
                    "name": f"ErrorRate-{name}",
                    "metric": f"apm.by_service_5m.{name}.error_rate",
                    "op": ">",
                    "threshold": 0.05,
                }
            )
        elif i < threshold + (count - threshold) // 2:
            out.append(
                {
                    "name": f"LogJump-{name}",
                    "kind": "rate_of_change",
                    "metric": f"logs.errors_by_service_5m.{name}",
                    "window": "5m",
                    "threshold": 1.0,
                }
            )
        else:
            out.append(
                {
                    "name": f"Silent-{name}",
                    "kind": "absence",
                    "metric": f"apm.by_service_5m.{name}.requests",
                    "for": "5m",
                }
            )
    return out


def snapshots(count: int, cycle: int) -> dict[str, Any]:
    names = services(count)
    return {
        "apm": {
            "by_service_5m": {
                n: {"error_rate": 0.2 if i % 2 else 0.01, "requests": 100}
                for i, n in enumerate(names)
            }
        },
        "logs": {"errors_by_service_5m": {n: 10 * (cycle + 1) for n in names}},
    }


async def ours(count: int, cycles: int) -> tuple[list[float], list[int]]:
    scripted: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock()
        stack = Stack(
            StackOptions(
                root=Path(__file__).resolve().parents[2],
                data_dir=Path(tmp),
                clock=clock,
                secrets=TOKENS,
            )
        )
        await stack.start(run_timers=False)
        for worker, key in (("obs-apm", "apm"), ("obs-logs", "logs")):
            module = stack.worker(worker).module

            def scripted_class(base: type, key: str = key) -> type:
                class Scripted(base):  # type: ignore[misc, valid-type]
                    async def snapshot(self) -> dict[str, Any]:
                        return dict(scripted[key])

                return Scripted

            module.Default = scripted_class(module.Default)
        durations, raised = [], []
        try:
            transport = httpx.ASGITransport(app=Gateway(stack))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", timeout=120
            ) as http:
                (
                    await http.put("/alerts/rules", json={"rules": rules(count)}, headers=ADMIN)
                ).raise_for_status()
                for cycle in range(cycles):
                    scripted.update(snapshots(count, cycle))
                    started = time.perf_counter()
                    reply = await http.post("/alerts/rules/evaluate", headers=ADMIN)
                    durations.append(time.perf_counter() - started)
                    reply.raise_for_status()
                    raised.append(int(reply.json()["events"]))
                    clock.advance(60)
        finally:
            await stack.close()
    return durations, raised


def half_breaching(count: int) -> Exporter:
    """`bench_error_rate{service=...}` for Prometheus to scrape, half of them breaching."""
    text = error_rates({n: 0.2 if i % 2 else 0.01 for i, n in enumerate(services(count))})
    return Exporter(lambda: text)


def theirs(count: int, seconds: float) -> list[float]:
    exporter = half_breaching(count)
    group = {
        "name": "bench",
        "interval": "2s",
        "rules": [
            {"alert": f"ErrorRate_{i}", "expr": f'bench_error_rate{{service="{n}"}} > 0.05'}
            for i, n in enumerate(services(count))
        ],
    }
    config = {
        "global": {"scrape_interval": "2s", "evaluation_interval": "2s"},
        "scrape_configs": [
            {"job_name": "bench", "static_configs": [{"targets": [exporter.target]}]}
        ],
    }
    durations: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        process, url = prometheus(config, {"groups": [group]}, Path(tmp), "rules")
        try:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                time.sleep(2)
                text = httpx.get(f"{url}/metrics", timeout=10).text
                for line in text.splitlines():
                    if line.startswith("prometheus_rule_group_last_duration_seconds{"):
                        durations.append(float(line.rsplit(" ", 1)[1]))
        finally:
            stop(process)
            exporter.close()
    return [d for d in durations if d > 0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=6)
    args = parser.parse_args()
    header(f"{args.rules} rules per evaluation cycle (half of them breaching)")
    durations, raised = asyncio.run(ours(args.rules, args.cycles))
    rows = [["system", "what one cycle covers", "cycles", "first s", "median s", "max s"]]
    rows.append(
        [
            "this stack",
            f"snapshot RPCs + evaluate + ingest of {raised[0]} alerts",
            str(len(durations)),
            f"{durations[0]:.3f}",
            f"{statistics.median(durations[1:] or durations):.3f}",
            f"{max(durations):.3f}",
        ]
    )
    if PROMETHEUS is None:
        rows.append(["Prometheus", "-", "not installed", "-", "-", "-"])
    else:
        theirs_durations = theirs(args.rules, 20)
        name = f"Prometheus {binary_version(PROMETHEUS)}"
        if theirs_durations:
            rows.append(
                [
                    name,
                    "rule group evaluation",
                    str(len(theirs_durations)),
                    f"{theirs_durations[0]:.3f}",
                    f"{statistics.median(theirs_durations):.3f}",
                    f"{max(theirs_durations):.3f}",
                ]
            )
        else:
            rows.append([name, "rule group evaluation", "0", "did not report", "-", "-"])
    table(rows)


if __name__ == "__main__":
    main()
