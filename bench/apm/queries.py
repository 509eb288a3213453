"""Trace fetch at 1,000,000 stored spans and /apm/summary over 24 h of 50 services x 20 routes.

    .venv/bin/python -m bench.apm.queries [--spans 1000000] [--fetches 300] [--summaries 30]
                                          [--data DIR]

`--data DIR` keeps the generated data there and reuses it on the next run with the same
`--spans` (generating 1,000,000 spans takes minutes; the queries take seconds).

Data is generated through the shard API, not over HTTP: spans through `apm.ingest.ingest`
(the code path behind `/v1/traces`, minus decoding) into the span shards, and per-minute
sketches (3 requests per route per minute, lognormal latencies) through `StatsShard.record`
into the stats shards (26 h of them), with the minute rollup run after each simulated hour as
the cron would.
Then a real server process is started on that data and queried over loopback HTTP. The 24 h
summary is timed twice: on the data as it is, and after an untimed export giving every route a
span in the current minute (live traffic: every key then adds a minute row to its total).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.apm.server import (
    INGEST,
    READ,
    ROOT,
    TOKENS,
    Server,
    cpu_seconds,
    header,
    percentile,
)
from localedge.clock import ManualClock
from localedge.stack import Stack, StackOptions
from obs_schema.otlp.traces import TraceSpan
from obs_schema.sketch import Sketch

SERVICES, ROUTES, PER_MINUTE = 50, 20, 3
# More than the 24 h queried: a window starting after the data does is a difference of two
# running totals in the stats shards, as in a deployment that has run for a while.
HOURS_OF_SKETCHES = 26
SPANS_PER_TRACE = 10
STATEMENTS = [f"SELECT * FROM t{s} WHERE id = ?" for s in range(SPANS_PER_TRACE)]  # noqa: S608


def traces(count: int, now_ns: int, rng: random.Random) -> tuple[list[TraceSpan], list[str]]:
    spans, ids = [], []
    for _ in range(count):
        trace_id, root = os.urandom(16).hex(), os.urandom(8).hex()
        start = now_ns - rng.randrange(20 * 3600 * 10**9)
        service = f"svc-{rng.randrange(SERVICES):02d}"
        ids.append(trace_id)
        for s in range(SPANS_PER_TRACE):
            span_id = root if s == 0 else os.urandom(8).hex()
            attributes: dict[str, Any] = (
                {"http.route": f"/r{rng.randrange(ROUTES)}", "http.request.method": "GET"}
                if s == 0
                else {"db.system": "postgresql", "db.statement": STATEMENTS[s]}
            )
            spans.append(
                TraceSpan(
                    trace_id,
                    span_id,
                    "" if s == 0 else root,
                    "op",
                    2 if s == 0 else 3,
                    service if s < 5 else "db-proxy",
                    start + s * 1000,
                    start + s * 1000 + rng.randrange(1, 50) * 10**6,
                    0,
                    "",
                    attributes,
                    resource={"service.name": service},
                )
            )
    return spans, ids


async def populate(data: Path, spans: int, now: float) -> list[str]:
    stack = Stack(StackOptions(root=ROOT, data_dir=data, clock=ManualClock(now), secrets=TOKENS))
    await stack.start(run_timers=False)  # loads the Worker: its package is importable from here
    from apm.ingest import ingest
    from apm.sharding import STATS_SHARDS, stats_shard, stats_stub

    env = stack.worker("obs-apm").env
    rng = random.Random(1)
    sample: list[str] = []
    started = time.perf_counter()
    for _ in range(spans // (100 * SPANS_PER_TRACE)):
        batch, ids = traces(100, int(now * 1e9), rng)
        await ingest(env, batch, int(now * 1000))
        sample.extend(ids[:2])
    print(f"stored {spans:,} spans through the shard API in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    now_minute = int(now // 60)
    first = now_minute - HOURS_OF_SKETCHES * 60
    for minute in range(first, now_minute + 1):
        per_shard: dict[int, list[dict[str, Any]]] = {}
        for s in range(SERVICES):
            service, everything, errors = f"svc-{s:02d}", Sketch(), 0
            for r in range(ROUTES):
                sketch = Sketch()
                for _ in range(PER_MINUTE):
                    sketch.add(rng.lognormvariate(3.5, 0.8))
                failed = int(rng.random() < 0.02)
                everything.merge(sketch)
                errors += failed
                entry = {"kind": "route", "a": service, "b": f"/r{r}", "minute": minute,
                         "errors": failed, "sketch": sketch.to_bytes(), "examples": []}  # fmt: skip
                per_shard.setdefault(stats_shard("route", service), []).append(entry)
            # The per-service key that ingest keeps beside the routes (b == "").
            total = {"kind": "route", "a": service, "b": "", "minute": minute, "errors": errors,
                     "sketch": everything.to_bytes(), "examples": []}  # fmt: skip
            per_shard[stats_shard("route", service)].append(total)
        for shard, entries in per_shard.items():
            await stats_stub(env, shard).record(entries)
        if minute % 60 == 59:
            for shard in range(STATS_SHARDS):
                await stats_stub(env, shard).rollup(minute + 1)
    for shard in range(STATS_SHARDS):
        await stats_stub(env, shard).rollup(now_minute)
    print(
        f"stored {HOURS_OF_SKETCHES} h of minute sketches for {SERVICES * ROUTES} routes "
        f"in {time.perf_counter() - started:.0f} s"
    )
    await stack.close()
    return sample


def live_spans(rng: random.Random) -> list[dict[str, Any]]:
    """One server span for every route, now: the minute after the last rollup gets data, as it
    does with live traffic, so a summary adds a minute row to every key's rolled total."""
    now_ms = time.time() * 1000
    return [
        {"trace_id": f"{rng.getrandbits(128):032x}", "span_id": f"{rng.getrandbits(64):016x}",
         "name": "op", "kind": "server", "service": f"svc-{s:02d}", "start_ms": now_ms,
         "end_ms": now_ms + rng.lognormvariate(3.5, 0.8), "attributes": {"http.route": f"/r{r}"}}
        for s in range(SERVICES)
        for r in range(ROUTES)
    ]  # fmt: skip


def timed_with_traffic(
    client: httpx.Client, count: int, pid: int, rng: random.Random
) -> tuple[list[float], float]:
    """Summaries, each after an (untimed) export touching every route; server CPU per summary."""
    out, cpu = [], 0.0
    for _ in range(count):
        sent = client.post("/apm/spans", json=live_spans(rng), headers=INGEST)
        assert sent.status_code == 200, sent.text[:200]
        before = cpu_seconds(pid)
        out += timed(client, "/apm/summary", 1, {"since": "24h"})
        cpu += cpu_seconds(pid) - before
    return out, cpu * 1000 / count


def timed(
    client: httpx.Client, path: str, count: int, params: dict[str, str] | None = None
) -> list[float]:
    out = []
    for i in range(count):
        started = time.perf_counter()
        reply = client.get(path.format(i=i), params=params)
        out.append((time.perf_counter() - started) * 1000)
        assert reply.status_code == 200, reply.text[:200]
    return out


def prepared(data: Path, spans: int) -> tuple[list[str], float]:
    """Trace ids to fetch and the generation time, generating the data unless kept from before."""
    marker = data / "apm-bench.json"
    if marker.exists():
        kept = json.loads(marker.read_text())
        if kept["spans"] == spans:
            print(f"reusing the data generated at {kept['now']:.0f} in {data}")
            return list(kept["sample"]), float(kept["now"])
        raise SystemExit(f"{data} holds a run with --spans {kept['spans']}; use another --data")
    now = time.time()
    sample = asyncio.run(populate(data, spans, now))
    marker.write_text(json.dumps({"spans": spans, "now": now, "sample": sample}))
    return sample, now


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--fetches", type=int, default=300)
    parser.add_argument("--summaries", type=int, default=30)
    parser.add_argument("--data", type=Path, default=None, help="keep and reuse the data here")
    args = parser.parse_args()
    print(header())
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    with contextlib.ExitStack() as cleanup:
        if args.data is None:
            tmp = Path(cleanup.enter_context(tempfile.TemporaryDirectory()))
        else:
            tmp = args.data
            tmp.mkdir(parents=True, exist_ok=True)
        sample, now = prepared(tmp, args.spans)
        if time.time() - now > 3600:
            print("note: the data is over an hour old; the 24 h window still covers most of it")
        rng = random.Random(2)
        with (
            Server(tmp) as server,
            httpx.Client(base_url=server.url, headers=READ, timeout=120) as client,
        ):
            picks = [rng.choice(sample) for _ in range(args.fetches + 16)]
            for trace_id in picks[:16]:  # open every shard once
                client.get(f"/apm/traces/{trace_id}")
            pid = server.process.pid
            cpu = cpu_seconds(pid)
            fetch = []
            for trace_id in picks[16:]:
                fetch += timed(client, f"/apm/traces/{trace_id}", 1)
            fetch_cpu = (cpu_seconds(pid) - cpu) * 1000 / len(fetch)
            # Roll up to now first (kept data may hold minutes a previous run added): "as it
            # is" then means every minute of the window is in hour rows.
            client.get("/cdn-cgi/local/scheduled", params={"cron": "* * * * *"})
            body = client.get("/apm/summary", params={"since": "24h"}).json()
            cpu = cpu_seconds(pid)
            summary = timed(client, "/apm/summary", args.summaries, {"since": "24h"})
            summary_cpu = (cpu_seconds(pid) - cpu) * 1000 / len(summary)
            live, live_cpu = timed_with_traffic(client, args.summaries, pid, rng)
            cpu = cpu_seconds(pid)
            hour = timed(client, "/apm/summary", max(3, args.summaries // 10), {"since": "1h"})
            hour_cpu = (cpu_seconds(pid) - cpu) * 1000 / len(hour)
    print(f"summary rows: {len(body['routes'])} routes, resolution {body['resolution']}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print("| query | stored | n | p50 ms | p95 ms | server CPU ms/request | target |")
    print("|---|---|---|---|---|---|---|")
    stored = f"{args.spans:,} spans"
    rows = [
        ("GET /apm/traces/{id} (10 spans)", stored, fetch, fetch_cpu, "p95 <= 10 ms"),
        ("GET /apm/summary?since=24h", "1000 routes x 24 h", summary, summary_cpu, "p95 <= 50 ms"),
        (
            "same, every route with a span in the current minute",
            "1000 routes x 24 h",
            live,
            live_cpu,
            "p95 <= 50 ms",
        ),
        ("GET /apm/summary?since=1h", "1000 routes x 61 min", hour, hour_cpu, "(no target)"),
    ]
    for name, stored, values, cpu_ms, target in rows:
        print(
            f"| {name} | {stored} | {len(values)} | {percentile(values, 0.5):.1f} | "
            f"{percentile(values, 0.95):.1f} | {cpu_ms:.1f} | {target} |"
        )


if __name__ == "__main__":
    main()
