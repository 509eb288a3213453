"""10,000 alert events a minute, deduplicated without loss: ours vs Alertmanager.

10,000 events for 1,000 distinct alerts (each fired 10 times), posted as fast as 16 concurrent
clients manage, one event per request, then again 100 events per request. Afterwards every
alert is read back: our side must hold exactly 1,000 alerts whose `received` counts add up to
10,000 (nothing lost, nothing double-counted). Alertmanager keeps no counts; it must hold
exactly 1,000 alerts. The rate is reported as events per minute.

    .venv/bin/python -m bench.alerting.dedup              # --events 10000 --alerts 1000
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.alerting.common import (
    ALERTMANAGER,
    INGEST,
    READ,
    Stack,
    alertmanager,
    header,
    stop,
    table,
    version,
)

CONCURRENCY = 16


def events(count: int, alerts: int) -> list[dict[str, Any]]:
    return [
        {"name": "Dedup", "severity": "warning", "labels": {"instance": f"host-{i % alerts}"}}
        for i in range(count)
    ]


def as_alertmanager(event: dict[str, Any]) -> dict[str, Any]:
    return {"labels": {"alertname": event["name"], **event["labels"]}}


async def post_all(url: str, bodies: list[Any], headers: dict[str, str]) -> tuple[float, int]:
    """Seconds to post every body (16 at a time), and how many were refused."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    refused = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal refused
        while not queue.empty():
            body = queue.get_nowait()
            reply = await client.post(url, json=body, headers=headers)
            refused += reply.status_code >= 300

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
        return time.perf_counter() - started, refused


def ours_held(base: str) -> tuple[int, int]:
    alerts, received, cursor = 0, 0, None
    with httpx.Client(timeout=60) as client:
        while True:
            params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = client.get(f"{base}/alerts", params=params, headers=READ).json()
            alerts += len(page["alerts"])
            received += sum(a["received"] for a in page["alerts"])
            cursor = page["next_cursor"]
            if not cursor:
                return alerts, received


def row(system: str, mode: str, sent: int, seconds: float, refused: int, held: str) -> list[str]:
    per_minute = sent / seconds * 60
    return [system, mode, str(sent), f"{seconds:.1f}", f"{per_minute:,.0f}", str(refused), held]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--alerts", type=int, default=1_000)
    args = parser.parse_args()
    header(f"{args.events} events for {args.alerts} alerts, {CONCURRENCY} concurrent clients")
    sample = events(args.events, args.alerts)
    rows = [["system", "requests", "events", "seconds", "events/min", "refused", "held afterwards"]]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for mode, size in (("1 event each", 1), ("100 events each", 100)):
            with Stack(work / f"stack-{size}") as stack:
                bodies = (
                    sample
                    if size == 1
                    else [sample[i : i + size] for i in range(0, len(sample), size)]
                )
                seconds, refused = asyncio.run(
                    post_all(f"{stack.url}/alerts/events", bodies, INGEST)
                )
                alerts, received = ours_held(stack.url)
                held = f"{alerts} alerts, received sum {received}"
                rows.append(row("this stack", mode, args.events, seconds, refused, held))
        if ALERTMANAGER is None:
            rows.append(["Alertmanager", "-", "-", "-", "not installed", "-", "-"])
        else:
            config = {"route": {"receiver": "none"}, "receivers": [{"name": "none"}]}
            for mode, size in (("1 alert each", 1), ("100 alerts each", 100)):
                process, url = alertmanager(config, work / f"am-{size}")
                try:
                    converted = [as_alertmanager(e) for e in sample]
                    bodies = [converted[i : i + size] for i in range(0, len(converted), size)]
                    seconds, refused = asyncio.run(post_all(f"{url}/api/v2/alerts", bodies, {}))
                    held = f"{len(httpx.get(f'{url}/api/v2/alerts', timeout=60).json())} alerts"
                    name = f"Alertmanager {version(ALERTMANAGER)}"
                    rows.append(row(name, mode, args.events, seconds, refused, held))
                finally:
                    stop(process)
    table(rows)


if __name__ == "__main__":
    main()
