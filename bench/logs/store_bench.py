"""Logs Worker storage: ingest over HTTP, query latency at N records, bytes, archive ratio.

    .venv/bin/python bench/logs/store_bench.py [records] [ingest_batches] [isolates] [connections]
        [--home-thread]

(`records` 0: the ingest part only; `isolates`: `serve --isolates N`, default 1; `connections`:
keep-alive connections posting at once, default 1; `--home-thread`: `serve --home-thread`, the
Durable Objects' SQLite on a thread of its own.)

1. Ingest: a real `python -m localedge serve` process on loopback; batches of 1,000 records
   (JSON, with PII to scrub) posted back to back over one keep-alive connection; twice, with
   each batch's timestamps spread over 10 minutes (rows land all over the shard's recent
   pages) and over 2 seconds (a live shipper: rows append).
2. Query: N records written fast through the shard API (the Worker's LogStore over the
   LogShard Durable Objects, in process: no HTTP, no scrubbing), then the server is started on
   that data directory and queried over HTTP; peers (tantivy, chDB, grep) get the same records
   and the same three questions.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT / "workers" / "logs" / "src")]

import httpx  # noqa: E402
from corpus import record  # noqa: E402
from machine import header  # noqa: E402

from localedge.clock import ManualClock  # noqa: E402
from localedge.stack import Stack, StackOptions  # noqa: E402

TOKENS = {
    "OBS_INGEST_TOKEN": "bench-i",
    "OBS_READ_TOKEN": "bench-r",
    "OBS_ADMIN_TOKEN": "bench-a",
    "OBS_SCRUB_KEY": "bench-key",
}
LEVEL_RANK = {
    "trace": 0,
    "debug": 1,
    "info": 2,
    "notice": 3,
    "warning": 4,
    "error": 5,
    "critical": 6,
    "fatal": 7,
}
WORD = "timeout"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    def __init__(self, data: Path, serving: Serving) -> None:
        self.port = free_port()
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("OBS_")}, **TOKENS}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "localedge",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(data),
                "--isolates",
                str(serving.isolates),
                *(["--home-thread"] if serving.home_thread else []),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if "Local stack ready" in line:
                break
        # Keep reading, so a chatty server never blocks on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)


@dataclass(frozen=True)
class Serving:
    isolates: int = 1
    connections: int = 1
    home_thread: bool = False

    def describe(self) -> str:
        objects = ", Durable Objects on the home thread" if self.home_thread else ""
        return f"{self.isolates} isolate process(es){objects}, {self.connections} connection(s)"


def main_thread_seconds(pid: int) -> float:
    """CPU time of a process's main thread alone (with `--home-thread`: the Workers' side;
    the rest of the process is the objects' thread and the WAL checkpoints)."""
    try:
        fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its children (the isolate processes of
    `serve --isolates`), Linux only (NaN elsewhere): the server's CPU per record moves less
    with the machine's load than records per second do."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return float("nan")
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) for child in children)


def disk_bytes(data: Path) -> int:
    shard_dir = data / "do" / "obs-logs" / "LogShard"
    return sum(p.stat().st_size for p in shard_dir.glob("*.sqlite*"))


# --- 1. ingest ----------------------------------------------------------------------------------
def bench_ingest(batches: int, spread_ms: int, serving: Serving) -> dict[str, float]:
    """Batches of 1,000 records whose timestamps are spread over the `spread_ms` before the
    batch is sent (a shipper flushing a buffer of that age), over `connections` keep-alive
    connections at once (each posting its share back to back) to `serve --isolates N`."""
    connections = serving.connections
    rng = random.Random(3)
    now = int(time.time() * 1000)
    warm = connections  # one warm-up batch per connection, not timed
    bodies = [
        json.dumps(
            [
                record(rng, now - (batches + warm - b) * 100 - rng.randint(0, spread_ms))
                for _ in range(1000)
            ]
        ).encode()
        for b in range(batches + warm)
    ]
    data = Path(tempfile.mkdtemp(prefix="logs-ingest-"))
    server = Server(data, serving)
    headers = {
        "authorization": f"Bearer {TOKENS['OBS_INGEST_TOKEN']}",
        "content-type": "application/json",
    }
    clients = [
        httpx.Client(base_url=server.url, headers=headers, timeout=120) for _ in range(connections)
    ]

    def post(client: httpx.Client, share: list[bytes]) -> None:
        for body in share:
            reply = client.post("/logs/ingest", content=body)
            assert reply.status_code == 202, reply.text

    try:
        for client, body in zip(clients, bodies[:warm], strict=True):
            post(client, [body])
        timed = bodies[warm:]
        shares = [timed[i::connections] for i in range(connections)]
        with ThreadPoolExecutor(connections) as pool:
            cpu = cpu_seconds(server.process.pid)
            main = main_thread_seconds(server.process.pid)
            started = time.perf_counter()
            list(pool.map(post, clients, shares))
            seconds = time.perf_counter() - started
            cpu = cpu_seconds(server.process.pid) - cpu
            main = main_thread_seconds(server.process.pid) - main
    finally:
        for client in clients:
            client.close()
        server.stop()
    result = {
        "records_per_s": 1000 * batches / seconds,
        "server_cpu_us": cpu / (1000 * batches) * 1e6,
        "main_thread_us": main / (1000 * batches) * 1e6,
        "bytes_per_record": disk_bytes(data) / (1000 * (batches + warm)),
    }
    shutil.rmtree(data, ignore_errors=True)
    return result


# --- 2. generate N records through the shard API -----------------------------------------
def rows_for(n: int, now_ms: int) -> tuple[list[list[Any]], list[str]]:
    from logs.fingerprint import fingerprint

    rng = random.Random(5)
    rows, traces = [], []
    span = 20 * 3600_000  # spread over the last 20 hours
    for i in range(n):
        raw = record(rng, now_ms - span + i * span // n)
        message = raw["message"].replace("@example.com", "").replace("203.0.113.", "host-")
        trace = raw["trace_id"]
        if trace and len(traces) < 2000:
            traces.append(trace)
        rows.append(
            [
                raw["timestamp"],
                now_ms,
                LEVEL_RANK[raw["level"]],
                raw["service"],
                trace,
                None,
                fingerprint(message),
                message,
                json.dumps(raw["attributes"]),
                "http",
                "local",
            ]
        )
    return rows, traces


async def load(data: Path, rows: list[list[Any]], now_s: float) -> float:
    from logs.ingestion import store_for
    from logs.settings import settings_for

    stack = Stack(StackOptions(root=ROOT, data_dir=data, clock=ManualClock(now_s), secrets=TOKENS))
    await stack.start(run_timers=False)
    env = stack.worker("obs-logs").env
    store = store_for(env, settings_for(env))
    started = time.perf_counter()
    for start in range(0, len(rows), 5000):
        await store.insert(rows[start : start + 5000])
    seconds = time.perf_counter() - started
    await stack.close()
    return seconds


def timed(fn: Any, repeat: int) -> tuple[float, float]:
    samples = []
    for i in range(repeat):
        started = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def bench_queries(n: int, repeat: int) -> tuple[dict[str, Any], list[list[Any]], list[str]]:
    now_s = time.time()
    rows, traces = rows_for(n, int(now_s * 1000))
    data = Path(tempfile.mkdtemp(prefix="logs-query-"))
    load_s = asyncio.run(load(data, rows, now_s))
    out: dict[str, Any] = {
        "load_records_per_s": n / load_s,
        "bytes_per_record": disk_bytes(data) / n,
    }
    server = Server(data, Serving())
    try:
        read = {"authorization": f"Bearer {TOKENS['OBS_READ_TOKEN']}"}
        with httpx.Client(base_url=server.url, headers=read, timeout=60) as client:

            def check(reply: httpx.Response) -> None:
                assert reply.status_code == 200, reply.text

            client.get("/logs/query", params={"level": "error", "limit": 50})  # warm
            out["level=error&limit=50"] = timed(
                lambda i: check(client.get("/logs/query", params={"level": "error", "limit": 50})),
                repeat,
            )
            out[f"q={WORD}&limit=100"] = timed(
                lambda i: check(client.get("/logs/query", params={"q": WORD, "limit": 100})), repeat
            )
            out["trace lookup"] = timed(
                lambda i: check(client.get(f"/logs/trace/{traces[i % len(traces)]}")), repeat
            )
    finally:
        server.stop()
    shutil.rmtree(data, ignore_errors=True)
    return out, rows, traces


# --- peers ---------------------------------------------------------------------------------------
def peer_tantivy(rows: list[list[Any]], traces: list[str], repeat: int) -> dict[str, Any]:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("ts", stored=True, indexed=True, fast=True)
    builder.add_integer_field("level", indexed=True, fast=True)
    builder.add_text_field("service", stored=True, tokenizer_name="raw")
    builder.add_text_field("trace", stored=True, tokenizer_name="raw")
    builder.add_text_field("message", stored=True)
    schema = builder.build()
    index = tantivy.Index(schema, path=tempfile.mkdtemp(prefix="tantivy-"))
    writer = index.writer(heap_size=256_000_000)
    started = time.perf_counter()
    for row in rows:
        writer.add_document(
            tantivy.Document(
                ts=row[0], level=row[2], service=row[3], trace=row[4] or "", message=row[7]
            )
        )
    writer.commit()
    writer.wait_merging_threads()
    ingest = len(rows) / (time.perf_counter() - started)
    index.reload()
    searcher = index.searcher()
    errors = index.parse_query("level:[5 TO 7]")
    word = index.parse_query(WORD, ["message"])
    out: dict[str, Any] = {"ingest_records_per_s": ingest}
    out["level=error&limit=50"] = timed(
        lambda i: searcher.search(errors, 50, order_by_field="ts").hits, repeat
    )
    out[f"q={WORD}&limit=100"] = timed(
        lambda i: searcher.search(word, 100, order_by_field="ts").hits, repeat
    )
    out["trace lookup"] = timed(
        lambda i: searcher.search(
            index.parse_query(f'trace:"{traces[i % len(traces)]}"'), 1000
        ).hits,
        repeat,
    )
    return out


def peer_chdb(ndjson: Path, records: int, traces: list[str], repeat: int) -> dict[str, Any]:
    from chdb import session

    db = session.Session(tempfile.mkdtemp(prefix="chdb-"))
    db.query("CREATE DATABASE IF NOT EXISTS b")
    db.query(
        "CREATE TABLE b.logs (ts Int64, level UInt8, service String, trace String, "
        "message String) ENGINE = MergeTree ORDER BY ts"
    )
    started = time.perf_counter()
    db.query(
        f"INSERT INTO b.logs SELECT ts, level, service, trace, message FROM file('{ndjson}', "  # noqa: S608
        "JSONEachRow, 'ts Int64, level UInt8, service String, trace String, message String')"
    )
    out: dict[str, Any] = {"ingest_records_per_s": records / (time.perf_counter() - started)}
    out["level=error&limit=50"] = timed(
        lambda i: db.query("SELECT * FROM b.logs WHERE level >= 5 ORDER BY ts DESC LIMIT 50"),
        repeat,
    )
    out[f"q={WORD}&limit=100"] = timed(
        lambda i: db.query(
            f"SELECT * FROM b.logs WHERE hasToken(message, '{WORD}') ORDER BY ts DESC LIMIT 100"  # noqa: S608
        ),
        repeat,
    )
    out["trace lookup"] = timed(
        lambda i: db.query(
            f"SELECT * FROM b.logs WHERE trace = '{traces[i % len(traces)]}' ORDER BY ts"  # noqa: S608
        ),
        repeat,
    )
    return out


def peer_grep(ndjson: Path, traces: list[str], repeat: int) -> dict[str, Any]:
    def grep(pattern: str, tail: int | None) -> None:
        found = subprocess.run(
            ["grep", "-F", pattern, str(ndjson)], capture_output=True, check=False
        )
        lines = found.stdout.splitlines()
        _ = lines[-tail:] if tail else lines

    out: dict[str, Any] = {}
    out["level=error&limit=50"] = timed(lambda i: grep('"level": 5', 50), max(3, repeat // 10))
    out[f"q={WORD}&limit=100"] = timed(lambda i: grep(WORD, 100), max(3, repeat // 10))
    out["trace lookup"] = timed(lambda i: grep(traces[i % len(traces)], None), max(3, repeat // 10))
    return out


def main() -> None:
    numbers = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    n = int(numbers[0]) if numbers else 1_000_000
    batches = int(numbers[1]) if len(numbers) > 1 else 40
    serving = Serving(
        isolates=int(numbers[2]) if len(numbers) > 2 else 1,
        connections=int(numbers[3]) if len(numbers) > 3 else 1,
        home_thread="--home-thread" in sys.argv,
    )
    repeat = 200
    print(header(f"Logs storage: ingest over HTTP, queries at {n:,} records"))
    for spread_ms, label in ((600_000, "10 minutes"), (2_000, "2 seconds")):
        ingest = bench_ingest(batches, spread_ms, serving)
        print(
            f"ingest over HTTP (real server, {serving.describe()}, batches of 1,000, "
            f"scrubbing + FTS5; timestamps spread over {label}): "
            f"{ingest['records_per_s']:,.0f} records/s; "
            f"server CPU {ingest['server_cpu_us']:.1f} us/record "
            f"(main thread {ingest['main_thread_us']:.1f}); "
            f"{ingest['bytes_per_record']:,.0f} bytes/record on disk"
        )
    if n == 0:  # ingest only
        return
    ours, rows, traces = bench_queries(n, repeat)
    ndjson = Path(tempfile.mkdtemp(prefix="ndjson-")) / "logs.ndjson"
    with ndjson.open("w") as out:
        for row in rows:
            out.write(
                json.dumps(
                    {
                        "ts": row[0],
                        "level": row[2],
                        "service": row[3],
                        "trace": row[4] or "",
                        "message": row[7],
                    }
                )
                + "\n"
            )
    raw = ndjson.stat().st_size
    hour = ndjson.read_bytes()[: raw // 20]  # about one hour of the 20
    ratio = len(hour) / len(gzip.compress(hour, compresslevel=6, mtime=0))
    results: dict[str, dict[str, Any]] = {"logs Worker (HTTP)": ours}
    for name, run in (
        ("tantivy 0.27 (in-process)", lambda: peer_tantivy(rows, traces, repeat)),
        ("chDB (in-process)", lambda: peer_chdb(ndjson, n, traces, repeat)),
        ("grep -F over NDJSON", lambda: peer_grep(ndjson, traces, repeat)),
    ):
        try:
            results[name] = run()
        except Exception as error:
            results[name] = {"error": f"{type(error).__name__}: {str(error)[:120]}"}
    names = list(results)
    print(f"\n| p50 / p95 ms | {' | '.join(names)} |\n|---|{'---|' * len(names)}")
    for key in ("level=error&limit=50", f"q={WORD}&limit=100", "trace lookup"):
        cells = [
            f"{r[key][0]:.2f} / {r[key][1]:.2f}" if key in r else r.get("error", "-")
            for r in results.values()
        ]
        print(f"| {key} | {' | '.join(cells)} |")
    print(
        f"\nrecords written through the shard API: {ours['load_records_per_s']:,.0f}/s; "
        f"{ours['bytes_per_record']:,.0f} bytes/record on disk (row, FTS5, indexes, stats) vs "
        f"{raw / n:,.0f} bytes/record as NDJSON"
    )
    rates = [
        f"{name.split(' (')[0]} {result['ingest_records_per_s']:,.0f} records/s"
        for name, result in results.items()
        if result.get("ingest_records_per_s")
    ]
    if rates:  # the peers load the same records in process: no HTTP, no scrubbing
        print(f"peers' ingest of the same records, in process: {', '.join(rates)}")
    print(f"archive compression (gzip -6 NDJSON, one hour): {ratio:.1f}x")
    shutil.rmtree(ndjson.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
