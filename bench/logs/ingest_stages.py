"""Where a logs ingest record's time goes, stage by stage, in process (no HTTP).

    .venv-bench/bin/python bench/logs/ingest_stages.py [batches] [repeats]

Batches of 1,000 benchmark records (timestamps spread over 10 minutes) go through the Worker's
own functions one stage at a time (CPU time, best of `repeats`), then into one LogShard's
SQLite the way the shard stores them (`ShardCore.insert`, then the commit the runtime makes
after the RPC; wall time, as the commit writes pages), and finally through the whole ingest
of a local stack (`logs.ingestion.ingest`, alerts included; least of two runs), for the total
CPU per record; and that again without the alert checks, and without the shard insert (each
replaced by nothing), which tells what those two cost with everything around them (RPC,
Durable Object events).
The collector runs with the server's settings (`localedge.__main__._settle_heap`: start-up
heap frozen, generation 0 collected every 100,000 allocations).
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT / "workers" / "logs" / "src")]

from corpus import record  # noqa: E402
from machine import header  # noqa: E402

from localedge.__main__ import _settle_heap  # noqa: E402
from localedge.clock import ManualClock  # noqa: E402
from localedge.stack import Stack, StackOptions  # noqa: E402
from localedge.storage import DurableObjectStorage  # noqa: E402
from logs import fingerprint, ingestion  # noqa: E402
from logs import rows as rowsmod  # noqa: E402
from logs.attributes import AttributeCodec  # noqa: E402
from logs.fingerprint import fingerprints  # noqa: E402
from logs.intake import normalise, records_of  # noqa: E402
from logs.settings import settings_for  # noqa: E402
from logs.store.logstore import LogStore  # noqa: E402
from logs.store.shardcore import ShardCore  # noqa: E402
from obs_schema.scrubbing import Scrubber, ScrubConfig  # noqa: E402

SPREAD_MS = 600_000
SECRETS = {
    "OBS_INGEST_TOKEN": "i",
    "OBS_READ_TOKEN": "r",
    "OBS_ADMIN_TOKEN": "a",
    "OBS_SCRUB_KEY": "bench-key",
}


def bodies(batches: int, now_ms: int) -> list[bytes]:
    rng = random.Random(3)
    return [
        json.dumps([record(rng, now_ms - rng.randint(0, SPREAD_MS)) for _ in range(1000)]).encode()
        for _ in range(batches)
    ]


def best_cpu(work: Callable[[], Any], records: int, repeats: int) -> float:
    """Best CPU time of `work` over `repeats` runs, in µs per record."""
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best / records * 1e6


def scrub_all(messages: list[str]) -> list[str]:
    scrubber = Scrubber(ScrubConfig(key=b"bench-key"))
    return [scrubber.scrub_text(message) for message in messages]


def fingerprint_all(messages: list[str]) -> None:
    fingerprint._remembered.clear()  # remembered fingerprints start empty, as at start-up
    for start in range(0, len(messages), 1000):
        fingerprints(messages[start : start + 1000])


def stages(texts: list[bytes], now_ms: int, repeats: int) -> dict[str, float]:
    scrubber = Scrubber(ScrubConfig(key=b"bench-key"))
    n = 1000 * len(texts)
    decoded = [records_of(text, "application/json") for text in texts]

    def entries() -> list[list[Any]]:
        out = []
        for batch in decoded:
            codec = AttributeCodec(scrubber)
            out.append([normalise(item, now_ms, codec) for item in batch])
        return out

    built = entries()
    messages = [scrubber.scrub_text(e.message) for batch in built for e in batch]
    rows = [rowsmod.build(b, scrubber, now_ms, "http", "local") for b in built]
    originals = [e.message for batch in built for e in batch]
    return {
        "parse the body (records_of: json)": best_cpu(
            lambda: [records_of(t, "application/json") for t in texts], n, repeats
        ),
        "intake (normalise: checks, attributes)": best_cpu(entries, n, repeats),
        # A new scrubber per run, so its memory of short strings starts empty each time.
        "scrub the message": best_cpu(lambda: scrub_all(originals), n, repeats),
        "fingerprint (per batch)": best_cpu(lambda: fingerprint_all(messages), n, repeats),
        "the shard's JSON (rows.shard_batch)": best_cpu(
            lambda: [rowsmod.shard_batch(r) for r in rows], n, repeats
        ),
    }


def shard_sql(texts: list[bytes], now_ms: int) -> dict[str, float]:
    """One shard takes every batch, as it would 4 batches in 4 on the 4 local slots."""
    scrubber = Scrubber(ScrubConfig(key=b"bench-key"))
    batches = []
    for text in texts:
        codec = AttributeCodec(scrubber)
        entries = [normalise(item, now_ms, codec) for item in records_of(text, "")]
        built = rowsmod.build(entries, scrubber, now_ms, "http", "local")
        batches.append(rowsmod.shard_batch(built))
    data = Path(tempfile.mkdtemp(prefix="logs-stages-"))
    storage = DurableObjectStorage(data / "shard.sqlite")
    core = ShardCore(storage.sql)
    storage.commit()
    insert = commit = 0.0
    for batch in batches:
        started = time.perf_counter()
        core.insert(batch)
        inserted = time.perf_counter()
        storage.commit()
        insert += inserted - started
        commit += time.perf_counter() - inserted
    storage.close()
    n = 1000 * len(texts)
    return {
        "SQLite insert (json_each, FTS5, indexes, stats)": insert / n * 1e6,
        "SQLite commit": commit / n * 1e6,
    }


async def whole(texts: list[bytes], now_s: float) -> float:
    data = Path(tempfile.mkdtemp(prefix="logs-stages-stack-"))
    stack = Stack(StackOptions(root=ROOT, data_dir=data, clock=ManualClock(now_s), secrets=SECRETS))
    await stack.start(run_timers=False)
    _settle_heap()  # as `python -m localedge serve` does once its stack is up
    env = stack.worker("obs-logs").env
    settings = settings_for(env)

    async def one(text: bytes) -> None:
        records = records_of(text, "application/json")
        await ingestion.ingest(env, records, source="http", edge="local", settings=settings)
        await stack.drain()  # the alert checks deferred after the answer

    await one(texts[0])  # warm up
    started = time.process_time()
    for text in texts[1:]:
        await one(text)
    seconds = time.process_time() - started
    await stack.close()
    return seconds / (1000 * (len(texts) - 1)) * 1e6


async def _no_alerts(*args: Any) -> None:
    return None


async def _no_insert(self: LogStore, rows: Any) -> int:
    return len(rows)


def whole_without(what: str, batches: int) -> float:
    """`whole`, in a process of its own (caches and heap of other runs stay out), with the
    alert checks or the shard insert replaced by nothing, or neither (`what` = "nothing")."""
    if what == "alerts":
        ingestion.alerts.observe = _no_alerts  # type: ignore[assignment]
    elif what == "insert":
        LogStore.insert = _no_insert  # type: ignore[method-assign]
    now_s = time.time()
    return asyncio.run(whole(bodies(4 * batches + 1, int(now_s * 1000)), now_s))


def in_own_process(what: str, batches: int, runs: int = 2) -> float:
    """The least of `runs` runs: one run is a single pass, moved by any other work."""
    command = [sys.executable, __file__, "--whole", what, str(batches)]
    return min(
        float(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    )


def main() -> None:
    if sys.argv[1:2] == ["--whole"]:
        print(whole_without(sys.argv[2], int(sys.argv[3])))
        return
    batches = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print(header(f"Logs ingest: CPU per record by stage, {batches} batches of 1,000"))
    _settle_heap()  # the server's collector settings, for the stages too
    now_s = time.time()
    texts = bodies(batches, int(now_s * 1000))
    figures = {**stages(texts, int(now_s * 1000), repeats), **shard_sql(texts, int(now_s * 1000))}
    figures["whole ingest in process (4 slots, alerts included)"] = in_own_process(
        "nothing", batches
    )
    figures["  the same without the alert checks"] = in_own_process("alerts", batches)
    figures["  the same without the shard insert"] = in_own_process("insert", batches)
    for name, micros in figures.items():
        print(f"{name:50s} {micros:6.2f} µs/record")


if __name__ == "__main__":
    main()
