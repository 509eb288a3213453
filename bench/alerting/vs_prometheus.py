"""The same 100 threshold rules, breach -> webhook received: ours vs Prometheus + Alertmanager.

One shared table of 100 per-service error rates feeds both sides: our APM Worker's
`snapshot()` (scripted in this process) and an exporter Prometheus scrapes. At an instant T all
100 go from 0.01 to 0.2 (T is drawn at random within a minute after every side has
evaluated once). Our side evaluates its rules on the every-minute cron (Cloudflare's
finest cron granularity); two Prometheus servers evaluate the same rules, one scraping and
evaluating every 15 s (a common production setting), one every 60 s (Prometheus' default);
both send to one Alertmanager. Every side routes with `group_wait: 0s` to a local webhook
receiver; latency is arrival - T for each of the 300 alerts. Bounded: about 4 minutes.

    .venv/bin/python -m bench.alerting.vs_prometheus
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.alerting.common import (
    ADMIN,
    ALERTMANAGER,
    PROMETHEUS,
    TOKENS,
    Exporter,
    Inbox,
    alertmanager,
    error_rates,
    header,
    inbox,
    prometheus,
    stop,
    summary,
    table,
    version,
)
from localedge.gateway import Gateway
from localedge.stack import Stack, StackOptions

RULES = 100
SERVICES = [f"svc-{i}" for i in range(RULES)]
VALUES: dict[str, float] = dict.fromkeys(SERVICES, 0.01)
TIMEOUT_S = 200.0


def live_exporter() -> Exporter:
    """`bench_error_rate{service=...}` from VALUES, as they are at each scrape."""
    return Exporter(lambda: error_rates({s: VALUES[s] for s in SERVICES}))


async def our_stack(work: Path, box: Inbox) -> Stack:
    stack = Stack(
        StackOptions(
            root=Path(__file__).resolve().parents[2], data_dir=work / "stack", secrets=TOKENS
        )
    )
    await stack.start(run_timers=True)
    module = stack.worker("obs-apm").module

    class Scripted(module.Default):  # type: ignore[misc, name-defined]
        async def snapshot(self) -> dict[str, Any]:
            return {"by_service_5m": {s: {"error_rate": VALUES[s]} for s in SERVICES}}

    module.Default = Scripted
    rules = [
        {
            "name": f"ErrorRate_{i}",
            "metric": f"apm.by_service_5m.{s}.error_rate",
            "op": ">",
            "threshold": 0.05,
        }
        for i, s in enumerate(SERVICES)
    ]
    config = {
        "route": {"receiver": "hook", "group_by": ["..."], "group_wait": "0s"},
        "receivers": [
            {
                "name": "hook",
                "webhook_configs": [
                    {"url": box.url + "/ours", "rate_limit": {"per_second": 1000, "burst": 1000}}
                ],
            }
        ],
    }
    transport = httpx.ASGITransport(app=Gateway(stack))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        (await http.put("/alerts/config", json=config, headers=ADMIN)).raise_for_status()
        (await http.put("/alerts/rules", json={"rules": rules}, headers=ADMIN)).raise_for_status()
    return stack


def prometheus_side(
    work: Path, exporter: Exporter, am_url: str, name: str, interval: str
) -> tuple[Any, str]:
    group = {
        "name": "bench",
        "rules": [
            {"alert": f"ErrorRate_{i}", "expr": f'bench_error_rate{{service="{s}"}} > 0.05'}
            for i, s in enumerate(SERVICES)
        ],
    }
    config = {
        "global": {
            "scrape_interval": interval,
            "evaluation_interval": interval,
            "external_labels": {"prom": name},
        },
        "scrape_configs": [
            {"job_name": "bench", "static_configs": [{"targets": [exporter.target]}]}
        ],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [am_url.removeprefix("http://")]}]}]
        },
    }
    return prometheus(config, {"groups": [group]}, work, name)


async def evaluated_once(url: str) -> None:
    """Wait until the server's rule group has been evaluated (so the breach is what we time)."""
    deadline = time.monotonic() + 120
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() < deadline:
            groups = (await client.get(f"{url}/api/v1/rules")).json()["data"]["groups"]
            if groups and not groups[0]["lastEvaluation"].startswith("0001"):
                return
            await asyncio.sleep(0.5)
    raise RuntimeError(f"{url} never evaluated its rules")


def latencies(box: Inbox, breach: float, path: str, label: str | None = None) -> list[float]:
    seen: dict[str, float] = {}
    for arrival in box.arrivals:
        if arrival.path != path:
            continue
        for alert in arrival.body.get("alerts", []):
            labels = alert.get("labels", {})
            if label is not None and labels.get("prom") != label:
                continue
            if alert.get("status") == "firing" and labels.get("alertname") not in seen:
                seen[labels["alertname"]] = arrival.at - breach
    return list(seen.values())


async def run(work: Path) -> list[list[str]]:
    rows = [["system", "evaluation", "alerts received", "p50 s", "p99 s", "max s"]]
    processes: list[Any] = []
    peers: list[tuple[str, str, str]] = []  # (name, interval, label)
    why_not = ""
    with inbox() as box:
        exporter = live_exporter()
        stack = await our_stack(work, box)
        try:
            try:
                am, am_url = alertmanager(
                    {
                        "route": {"receiver": "hook", "group_by": ["..."], "group_wait": "0s"},
                        "receivers": [
                            {"name": "hook", "webhook_configs": [{"url": box.url + "/am"}]}
                        ],
                    },
                    work / "am",
                )
                processes.append(am)
                for label, interval in (("fast", "15s"), ("slow", "60s")):
                    process, url = prometheus_side(work, exporter, am_url, label, interval)
                    processes.append(process)
                    peers.append((url, interval, label))
                await asyncio.gather(*(evaluated_once(url) for url, _, _ in peers))
            except Exception as error:  # the table says why the peer is missing
                why_not = f"{type(error).__name__}: {error}"
                peers = []
            # A random phase: right after a first evaluation would be the worst case for all.
            await asyncio.sleep(random.uniform(1, 60))
            breach = time.time()
            VALUES.update(dict.fromkeys(SERVICES, 0.2))
            expected = RULES * (1 + len(peers))
            deadline = time.monotonic() + TIMEOUT_S
            while time.monotonic() < deadline:
                got = len(latencies(box, breach, "/ours")) + sum(
                    len(latencies(box, breach, "/am", label)) for _, _, label in peers
                )
                if got >= expected:
                    break
                await asyncio.sleep(0.5)
            ours = latencies(box, breach, "/ours")
            rows.append(row("this stack (rules cron)", "every 1 min (cron)", ours))
            for _, interval, label in peers:
                name = f"Prometheus {version(PROMETHEUS)} + Alertmanager {version(ALERTMANAGER)}"
                rows.append(
                    row(name, f"scrape+eval every {interval}", latencies(box, breach, "/am", label))
                )
            if not peers:
                rows.append(
                    ["Prometheus + Alertmanager", "-", f"could not run: {why_not}", "-", "-", "-"]
                )
        finally:
            for process in processes:
                stop(process)
            exporter.close()
            await stack.close()
    return rows


def row(system: str, evaluation: str, values: list[float]) -> list[str]:
    s = summary(values)
    return [
        system,
        evaluation,
        f"{len(values)}/{RULES}",
        f"{s['p50']:.1f}",
        f"{s['p99']:.1f}",
        f"{s['max']:.1f}",
    ]


def main() -> None:
    header(
        f"{RULES} threshold rules (error rate > 0.05 per service), all breached at once; "
        "breach -> webhook"
    )
    with tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(run(Path(tmp)))
    table(rows)
    print(
        "The breach instant falls at a random point of each side's evaluation period, so one run's"
    )
    print("figures scatter over [0, period + scrape interval]; run it a few times for a spread.")


if __name__ == "__main__":
    main()
