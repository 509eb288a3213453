"""Time-series store: stored bytes per sample, and 7-day queries at a 5-minute step.

Run: `.venv-bench/bin/python bench/infra/store_bench.py` (about two minutes).

Data: 120 series x 7 days at one sample a minute (1.2 M samples), in the shapes monitoring
produces: request counters (small integers), gauges with two decimals, latency sums in seconds
to the microsecond, and sparse histogram buckets. Written through the shard exactly as the
Worker writes (hourly batches, then compaction into chunks and rollups).

- bytes per sample: chunk payload only, and the whole SQLite file (rows, keys, rollups, pages).
- peer: Prometheus' TSDB, the same samples through `promtool tsdb create-blocks-from
  openmetrics` (promtool from Debian's prometheus package, as `make setup` installs it).
- query: one series and a 10-series family (`by`), 7 days at 5 minutes (2016 points each), in
  the shard (what the Durable Object does) and through HTTP on the in-process local stack.
"""

from __future__ import annotations

import asyncio
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workers" / "infra" / "src"))

from infra import reader  # noqa: E402
from infra.samples import Batch  # noqa: E402
from infra.shard import ShardCore  # noqa: E402
from localedge.storage import DurableObjectStorage  # noqa: E402

DAYS = 7
MINUTES = DAYS * 1440
NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z
START = NOW - MINUTES * 60_000
SERIES_PER_SHAPE = 30


def value(shape: str, i: int, minute: int, rng: random.Random) -> float:
    daily = 1 + 0.5 * math.sin(2 * math.pi * minute / 1440 + i)
    if shape == "counter":
        return float(max(0, round(rng.gauss(40 * daily, 6))))
    if shape == "gauge":
        return round(rng.gauss(55 * daily, 3), 2)
    if shape == "latency":
        return round(abs(rng.gauss(0.012, 0.003)) * 20 * daily, 6)
    return float(rng.choice((0, 0, 0, 1, 1, 2, 3)))  # a histogram bucket's count


def batches(rng: random.Random) -> list[tuple[int, Batch]]:
    out = []
    for hour in range(MINUTES // 60):
        batch = Batch()
        for shape in ("counter", "gauge", "latency", "bucket"):
            for i in range(SERIES_PER_SHAPE):
                labels = {"service": f"svc-{i % 10}", "instance": f"i-{i}"}
                for m in range(60):
                    minute = hour * 60 + m
                    t = START + minute * 60_000
                    batch.number(f"bench_{shape}", labels, t, value(shape, i, minute, rng),
                                 counter=shape in ("counter", "bucket"))  # fmt: skip
        out.append((START + (hour + 1) * 3_600_000, batch))
    return out


def build(path: Path, rng: random.Random) -> tuple[ShardCore, DurableObjectStorage, int]:
    storage = DurableObjectStorage(path)
    core = ShardCore(storage.sql)
    samples = 0
    for at, batch in batches(rng):
        part = batch.payloads(1)[0]
        core.ingest_payload(part["h"], part["d"], at)
        core.compact(at + 600_000)
        storage.commit()
        samples += batch.points
    core.compact(NOW + 3_600_000)
    storage.commit()
    return core, storage, samples


def openmetrics(path: Path, rng: random.Random) -> int:
    """The same kind of data as OpenMetrics text, for promtool."""
    count = 0
    with path.open("w") as out:
        for shape in ("counter", "gauge", "latency", "bucket"):
            kind = "counter" if shape in ("counter", "bucket") else "gauge"
            name = f"bench_{shape}" + ("_total" if kind == "counter" else "")
            out.write(f"# TYPE {name.removesuffix('_total')} {kind}\n")
            for i in range(SERIES_PER_SHAPE):
                total = 0.0
                for minute in range(MINUTES):
                    v = value(shape, i, minute, rng)
                    total = total + v if kind == "counter" else v
                    t = (START + minute * 60_000) / 1000
                    out.write(
                        f'{name}{{service="svc-{i % 10}",instance="i-{i}"}} {total} {t:.0f}\n'
                    )
                    count += 1
        out.write("# EOF\n")
    return count


def prometheus_bytes(rng: random.Random, work: Path) -> tuple[float | str, int]:
    promtool = shutil.which("promtool") or str(ROOT / ".venv" / "bin" / "promtool")
    if not Path(promtool).exists():
        return "promtool not installed", 0
    text = work / "bench.om"
    samples = openmetrics(text, rng)
    blocks = work / "tsdb"
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "-q", str(text),
                    str(blocks)], check=True, capture_output=True)  # fmt: skip
    size = sum(f.stat().st_size for f in blocks.rglob("*") if f.is_file())
    return size / samples, samples


def timed(fn: Any, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def query_spec(metric: str, by: list[str] | None, matchers: list[list[str]]) -> dict[str, Any]:
    return {"metric": metric, "matchers": matchers, "start_ms": NOW - MINUTES * 60_000,
            "end_ms": NOW - 1, "step_s": 300, "fn": None, "by": by}  # fmt: skip


async def http_query(core_path: Path, runs: int) -> tuple[float, float] | str:
    """The same 7-day query through HTTP on the local stack (in process, ASGI)."""
    import httpx

    from localedge.clock import ManualClock
    from localedge.gateway import Gateway
    from localedge.stack import Stack, StackOptions

    data = Path(tempfile.mkdtemp())
    tokens = {"OBS_READ_TOKEN": "r", "OBS_INGEST_TOKEN": "i", "OBS_ADMIN_TOKEN": "a"}
    stack = Stack(StackOptions(root=ROOT, data_dir=data, clock=ManualClock(NOW / 1000),
                               secrets=tokens))  # fmt: skip
    try:
        await stack.start(run_timers=False)
    except Exception as error:  # another Worker of the tree may be mid-change
        return f"stack did not start: {type(error).__name__}"
    try:
        namespace = stack.worker("obs-infra").env.METRICS
        from infra.samples import shard_of

        stub = namespace.getByName(f"shard-{shard_of('bench_latency')}")
        rng = random.Random(1)
        for at, batch in batches(rng):
            part = batch.payloads(4).get(shard_of("bench_latency"))
            if part:
                await stub.ingest(part, at)
        await stub.maintain(NOW + 3_600_000)
        transport = httpx.ASGITransport(app=Gateway(stack))
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as http:
            params = {"metric": "bench_latency", "labels": "instance=i-3", "since": "7d",
                      "step": "5m"}  # fmt: skip
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                reply = await http.get("/infra/timeseries", params=params,
                                       headers={"authorization": "Bearer r"})  # fmt: skip
                times.append((time.perf_counter() - started) * 1000)
                assert reply.status_code == 200, reply.text
            times.sort()
            return statistics.median(times), times[int(0.95 * (len(times) - 1))]
    finally:
        await stack.close()


def main() -> None:
    print(f"# time-series store — {platform.python_implementation()} {platform.python_version()}")
    print(f"# {platform.machine()} {os.cpu_count()} CPUs, {platform.platform()}, "
          f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")  # fmt: skip
    work = Path(tempfile.mkdtemp())
    rng = random.Random(1)
    started = time.perf_counter()
    core, storage, samples = build(work / "shard.sqlite", rng)
    build_s = time.perf_counter() - started
    size = core.size()
    storage.close()
    file_bytes = (work / "shard.sqlite").stat().st_size
    wal = work / "shard.sqlite-wal"
    file_bytes += wal.stat().st_size if wal.exists() else 0
    prom, prom_samples = prometheus_bytes(random.Random(1), work)
    rate = samples / build_s
    print(f"# {samples:,} samples in {size['series']} series over {DAYS} days "
          f"(written in {build_s:.0f} s, {rate:,.0f} samples/s into the shard)\n")  # fmt: skip
    print("| bytes per sample | ours | Prometheus TSDB (promtool 2.42) |")
    print("|---|---|---|")
    chunk = size["chunk_bytes"] / samples
    prom_cell = f"{prom:.2f}" if isinstance(prom, float) else prom
    print(f"| minute chunks, payload only | {chunk:.2f} | — |")
    print(f"| 5-minute sums beside them, payload only | {size['fives_bytes'] / samples:.2f} | — |")
    print(f"| whole database file (rows, keys, rollups) | {file_bytes / samples:.2f} | "
          f"{prom_cell} (block files, {prom_samples:,} samples) |\n")  # fmt: skip
    reopened = DurableObjectStorage(work / "shard.sqlite")
    core = ShardCore(reopened.sql)
    one = query_spec("bench_latency", None, [["instance", "=", "i-3"]])
    family = query_spec("bench_counter", ["service"], [["service", "=", "svc-1|svc-2"]])
    results = {
        "1 series, 7 days @ 5 min (shard)": timed(lambda: reader.run_query(core, one, NOW), 40),
        "6 series summed by label (shard)": timed(lambda: reader.run_query(core, family, NOW), 40),
    }
    over_http = asyncio.run(http_query(work, 40))
    reopened.close()
    print("| 7-day query at 5-minute step | p50 ms | p95 ms |")
    print("|---|---|---|")
    for name, (p50, p95) in results.items():
        print(f"| {name} | {p50:.1f} | {p95:.1f} |")
    if isinstance(over_http, tuple):
        print(f"| 1 series through HTTP (local stack, in process) | {over_http[0]:.1f} | "
              f"{over_http[1]:.1f} |")  # fmt: skip
    else:
        print(f"| 1 series through HTTP | {over_http} | |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
