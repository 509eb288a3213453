"""Event-driven alert to first notification received, with group_wait 0: ours vs Alertmanager.

Each event is a new alert (its own aggregation group). The clock starts before the POST that
raises it and stops when a local webhook receiver has the notification for it. Two passes per
system: one event at a time (latency alone), then a steady 20 events a second (latency under
load). Our side is the whole local stack served by uvicorn in its own process; the peer is
Debian's Alertmanager on loopback, posted the same alerts on its API v2 with the same route.

    .venv/bin/python -m bench.alerting.latency            # --events 200
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.alerting.common import (
    ADMIN,
    ALERTMANAGER,
    INGEST,
    Inbox,
    Stack,
    alertmanager,
    header,
    inbox,
    stop,
    summary,
    table,
    version,
)

Post = Callable[[httpx.Client, str], None]


def ours(client: httpx.Client, base: str, name: str) -> None:
    event = {"name": name, "severity": "critical", "labels": {"service": "bench"}}
    reply = client.post(f"{base}/alerts/events", json=event, headers=INGEST)
    reply.raise_for_status()


def theirs(client: httpx.Client, base: str, name: str) -> None:
    alert = [{"labels": {"alertname": name, "service": "bench", "severity": "critical"}}]
    client.post(f"{base}/api/v2/alerts", json=alert).raise_for_status()


def arrived_for(name: str) -> Callable[[Any], bool]:
    def match(arrival: Any) -> bool:
        alerts = arrival.body.get("alerts") or []
        return any(a.get("labels", {}).get("alertname") == name for a in alerts)

    return match


def measure(
    box: Inbox,
    post: Callable[[httpx.Client, str], None],
    prefix: str,
    count: int,
    rate: float | None,
) -> list[float]:
    """Seconds from before each POST to its notification's arrival."""
    latencies: list[float] = []
    lock = threading.Lock()

    def one(client: httpx.Client, i: int) -> None:
        name = f"{prefix}{i}"
        started = time.time()
        post(client, name)
        found = box.wait_for(arrived_for(name), 30)
        if found is not None:
            with lock:
                latencies.append(found.at - started)

    with httpx.Client(timeout=30) as client:
        if rate is None:
            for i in range(count):
                one(client, i)
            return latencies
        threads = []
        start = time.monotonic()
        for i in range(count):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            thread = threading.Thread(target=one, args=(client, i))
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
    return latencies


def row(system: str, mode: str, sent: int, latencies: list[float]) -> list[str]:
    s = summary([x * 1000 for x in latencies])
    return [
        system,
        mode,
        f"{len(latencies)}/{sent}",
        f"{s['p50']:.1f}",
        f"{s['p99']:.1f}",
        f"{s['max']:.1f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    header(
        "event -> first notification at a local webhook receiver, group_wait 0, "
        f"{args.events} alerts per pass"
    )
    rows = [["system", "pass", "received", "p50 ms", "p99 ms", "max ms"]]
    with tempfile.TemporaryDirectory() as tmp, inbox() as box:
        work = Path(tmp)
        with Stack(work / "stack") as stack:
            config = {
                "route": {
                    "receiver": "hook",
                    "group_by": ["..."],
                    "group_wait": "0s",
                    "group_interval": "5m",
                },
                "receivers": [
                    {
                        "name": "hook",
                        "webhook_configs": [
                            {
                                "url": box.url + "/ours",
                                "rate_limit": {"per_second": 1000, "burst": 1000},
                            }
                        ],
                    }
                ],
            }
            httpx.put(
                f"{stack.url}/alerts/config", json=config, headers=ADMIN, timeout=30
            ).raise_for_status()
            for mode, rate in (("one at a time", None), ("20 events/s", 20.0)):
                prefix = "Seq" if rate is None else "Load"
                latencies = measure(
                    box, lambda c, n: ours(c, stack.url, n), f"Ours{prefix}", args.events, rate
                )
                rows.append(row("this stack (alerting Worker)", mode, args.events, latencies))
        if ALERTMANAGER is None:
            rows.append(["Alertmanager", "-", "not installed", "-", "-", "-"])
        else:
            am_config = {
                "route": {
                    "receiver": "hook",
                    "group_by": ["..."],
                    "group_wait": "0s",
                    "group_interval": "5m",
                },
                "receivers": [{"name": "hook", "webhook_configs": [{"url": box.url + "/am"}]}],
            }
            process, url = alertmanager(am_config, work)
            try:
                for mode, rate in (("one at a time", None), ("20 events/s", 20.0)):
                    prefix = "Seq" if rate is None else "Load"
                    latencies = measure(
                        box, lambda c, n: theirs(c, url, n), f"Am{prefix}", args.events, rate
                    )
                    rows.append(
                        row(f"Alertmanager {version(ALERTMANAGER)}", mode, args.events, latencies)
                    )
            finally:
                stop(process)
    table(rows)


if __name__ == "__main__":
    main()
