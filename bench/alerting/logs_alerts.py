"""What the alert path costs log ingest: CPU per ingested record, in process, part by part.

After each ingest batch the logs Worker summarises its error-or-worse rows, asks its AlertGate
Durable Object which become alerts, builds AlertEvents and sends them to the alerting Worker's
`receive_alerts` RPC, whose hub starts the alerts, groups and incidents. This runs batches of
1,000 records of the logs benchmark corpus (bench/logs/corpus.py: 1% critical, 7% error,
8 services) through `logs.ingestion.ingest` of a local stack (timers off, the clock still,
the collector set as `python -m localedge serve` sets it) and reports the main thread's CPU
time in `logs.alerts.observe` per ingested record, what its parts take per batch, and
`receive_alerts` per alert event. There is no peer for this: it is our own internal path.

The last line digests every table of the stack's Durable Objects (the random signing key
aside): two versions of the code that decide and store the same alerts print the same digest.

    .venv-bench/bin/python -m bench.alerting.logs_alerts            # --batches 60
    .venv-bench/bin/python -m bench.alerting.logs_alerts --gc-off   # parts without GC noise
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import inspect
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.alerting.common import ROOT, header

sys.path[:0] = [str(ROOT / "bench" / "logs"), str(ROOT / "workers" / "logs" / "src")]

from corpus import record  # noqa: E402

from localedge.__main__ import _settle_heap  # noqa: E402
from localedge.clock import ManualClock  # noqa: E402
from localedge.stack import Stack, StackOptions  # noqa: E402

SECRETS = {
    "OBS_INGEST_TOKEN": "i",
    "OBS_READ_TOKEN": "r",
    "OBS_ADMIN_TOKEN": "a",
    "OBS_SCRUB_KEY": "bench-key",
}
NOW_S = 1_800_000_000.0  # a fixed instant: the same alerts on every run
SPREAD_MS = 600_000


def bodies(batches: int) -> list[bytes]:
    rng = random.Random(3)
    now_ms = int(NOW_S * 1000)
    return [
        json.dumps([record(rng, now_ms - rng.randint(0, SPREAD_MS)) for _ in range(1000)]).encode()
        for _ in range(batches)
    ]


class Timer:
    """CPU seconds the main thread spent in wrapped functions, by label (inclusive of what
    they call). Thread time, not process time: the stack's checkpointer thread copies the log
    shards' write-ahead logs into their databases right after each ingest commit, while the
    alert path runs, and process time would charge that work to whatever is being timed."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.events = 0

    def wrap(self, owner: Any, name: str, label: str) -> None:
        setattr(owner, name, self.timed(getattr(owner, name), label))

    def timed(self, function: Callable[..., Any], label: str) -> Callable[..., Any]:
        spent = self.spent
        if inspect.iscoroutinefunction(function):

            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                started = time.thread_time()
                try:
                    return await function(*args, **kwargs)
                finally:
                    spent[label] = spent.get(label, 0.0) + time.thread_time() - started

            return timed_async

        def timed_sync(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.thread_time() - started

        return timed_sync


PARTS = [
    ("observe", "alert path in all (logs.alerts.observe)"),
    ("summarise", "  summarise the batch's rows"),
    ("decide", "  AlertGate decision (in the Durable Object)"),
    ("events", "  build the AlertEvents"),
    ("send", "  send_alerts -> receive_alerts"),
    ("validate", "    intake validation"),
    ("hub", "    AlertHub intake call (in the Durable Object)"),
]


def instrument(timer: Timer) -> None:
    """Wrap the path's functions (after the stack loaded the Workers' modules)."""
    from alerting import intake
    from alerting.hub import core
    from logs import alerts, gate, ingestion

    timer.wrap(ingestion.alerts, "observe", "observe")
    timer.wrap(alerts, "summarise", "summarise")
    timer.wrap(gate.GateCore, "decide", "decide")
    timer.wrap(alerts, "event", "events")
    timer.wrap(intake, "validate", "validate")
    calling = core.HubCore.call
    timed_call = timer.timed(calling, "hub")

    async def hub_call(self: Any, op: str, args: dict[str, Any]) -> Any:
        # Only the intake: incidents opened also bring a deferred impact capture.
        return await (timed_call if op == "ingest" else calling)(self, op, args)

    core.HubCore.call = hub_call  # type: ignore[method-assign]
    sending = alerts.send_alerts

    async def counted(env: Any, events: Any) -> bool:
        timer.events += len(events)
        return await sending(env, events)

    alerts.send_alerts = timer.timed(counted, "send")  # type: ignore[assignment]


def digest(data: Path) -> str:
    """Every table of every Durable Object, in a stable order."""
    hashed = hashlib.sha256()
    for path in sorted(data.rglob("*.sqlite")):
        connection = sqlite3.connect(path)
        names = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        for (table,) in names:
            rows = connection.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608
            if table == "settings":
                rows = [row for row in rows if row[0] != "link_key"]  # random per run
            hashed.update(f"{path.name}:{table}:".encode())
            hashed.update("\n".join(sorted(map(repr, rows))).encode())
        connection.close()
    return hashed.hexdigest()[:16]


async def run(batches: int, gc_off: bool) -> tuple[Timer, float, str]:
    from logs import ingestion
    from logs.intake import records_of
    from logs.settings import settings_for

    texts = bodies(batches + 2)
    data = Path(tempfile.mkdtemp(prefix="logs-alerts-bench-"))
    options = StackOptions(root=ROOT, data_dir=data, clock=ManualClock(NOW_S), secrets=SECRETS)
    stack = Stack(options)
    await stack.start(run_timers=False)
    _settle_heap()  # as `python -m localedge serve` does once its stack is up
    timer = Timer()
    instrument(timer)
    env = stack.worker("obs-logs").env
    settings = settings_for(env)

    async def one(text: bytes) -> None:
        records = records_of(text, "application/json")
        await ingestion.ingest(env, records, source="http", edge="local", settings=settings)
        await stack.drain()  # the alert path runs after the answer

    for text in texts[:2]:  # warm up
        await one(text)
    timer.spent.clear()
    timer.events = 0
    if gc_off:
        gc.collect()
        gc.disable()
    started = time.process_time()
    for text in texts[2:]:
        await one(text)
    total = time.process_time() - started
    gc.enable()
    await stack.close()
    return timer, total, digest(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--gc-off", action="store_true", help="collector off while timing")
    args = parser.parse_args()
    header(
        f"Logs ingest -> alerts: CPU of the alert path, {args.batches} batches of 1,000 "
        f"records, in process{' (GC off while timing)' if args.gc_off else ''}"
    )
    timer, total, tables = asyncio.run(run(args.batches, args.gc_off))
    records = args.batches * 1000
    rows = [["part", "us per record", "ms per batch"]]
    for key, label in PARTS:
        spent = timer.spent.get(key, 0.0)
        rows.append([label, f"{spent / records * 1e6:.2f}", f"{spent / args.batches * 1e3:.3f}"])
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * width for width in widths))
    events = max(timer.events, 1)
    print()
    print(f"whole ingest with alerts: {total / records * 1e6:.1f} us per record (process CPU)")
    print(f"alert events sent: {timer.events} ({timer.events / args.batches:.2f} per batch)")
    print(f"receive_alerts: {timer.spent.get('send', 0.0) / events * 1e3:.3f} ms CPU per event")
    print(f"state digest: {tables}")


if __name__ == "__main__":
    main()
