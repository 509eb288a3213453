"""What binding telemetry adds to one KV operation, in process.

Run: `.venv-bench/bin/python bench/infra/telemetry_bench.py` (under a minute).

Each row times `await kv.get(key)` in a loop and reports nanoseconds per call; the overhead is the
difference from the same call without instrumentation. Two KVs: an in-memory one (a dict behind
an async method: the overhead is nearly all that is measured) and the local runtime's real KV
(SQLite). Peers, wrapping the same call: an OpenTelemetry SDK span per call (a real tracer
provider with a batch processor and an exporter that drops spans) and a prometheus_client
histogram timing each call.
"""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from localedge.clock import SystemClock
from localedge.kv import KVNamespace
from obs_schema.telemetry import Telemetry
from obs_schema.telemetry.bindings import wrap

CALLS = 50_000
ROUNDS = 5


class MemoryKV:
    """The smallest async KV: what remains is the cost of the wrapper around it."""

    def __init__(self) -> None:
        self.data = {"k": "value"}

    async def get(self, key: str, *args: Any, **kwargs: Any) -> str | None:
        return self.data.get(key)

    async def getWithMetadata(self, key: str) -> dict[str, Any]:
        return {"value": self.data.get(key), "metadata": None}


Get = Callable[[], Awaitable[Any]]


async def per_call_ns(variants: dict[str, Get], calls: int) -> dict[str, float]:
    """Fastest of ROUNDS rounds per variant, the variants interleaved round by round, so a
    busy moment on the machine does not land on one variant only."""
    best: dict[str, float] = {}
    for get in variants.values():  # warm up every path once
        for _ in range(calls // 10):
            await get()
    for _ in range(ROUNDS):
        for name, get in variants.items():
            started = time.perf_counter_ns()
            for _ in range(calls):
                await get()
            elapsed = (time.perf_counter_ns() - started) / calls
            best[name] = min(best.get(name, elapsed), elapsed)
    return best


def otel_wrapped(kv: Any) -> Get:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Drop(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Drop(), max_queue_size=100_000))
    tracer = provider.get_tracer("bench")

    async def get() -> Any:
        with tracer.start_as_current_span("kv.get"):
            return await kv.get("k")

    return get


def prometheus_wrapped(kv: Any) -> Get:
    from prometheus_client import CollectorRegistry, Histogram

    histogram = Histogram("kv_seconds", "KV call time", registry=CollectorRegistry())

    async def get() -> Any:
        with histogram.time():
            return await kv.get("k")

    return get


async def rows(kv: Any, calls: int) -> dict[str, float]:
    telemetry = Telemetry("bench")
    timed = wrap("CONFIG", kv, telemetry)
    results = await per_call_ns(
        {
            "no instrumentation": lambda: kv.get("k"),
            "ours (obs_schema.telemetry)": lambda: timed.get("k"),
            "OpenTelemetry SDK span": otel_wrapped(kv),
            "prometheus_client Histogram.time()": prometheus_wrapped(kv),
        },
        calls,
    )
    batch = telemetry.recorder.drain()
    assert batch is not None and batch["ops"], "the wrapped calls were recorded"
    return results


async def main() -> None:
    print(f"# binding telemetry overhead — {platform.python_implementation()} "
          f"{platform.python_version()}")  # fmt: skip
    print(f"# {platform.machine()} {os.cpu_count()} CPUs, {platform.platform()}, "
          f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")  # fmt: skip
    print(f"# fastest of {ROUNDS} interleaved rounds of {CALLS:,} awaited `kv.get` calls "
          f"({CALLS // 5:,} on SQLite)\n")  # fmt: skip
    memory = await rows(MemoryKV(), CALLS)
    with tempfile.TemporaryDirectory() as folder:
        real = KVNamespace(Path(folder) / "kv.sqlite", SystemClock())
        await real.put("k", "value")
        sqlite = await rows(real, CALLS // 5)
        real.close()
    print("| per KV get | in-memory KV ns | overhead ns | local KV (SQLite) ns | overhead ns |")
    print("|---|---|---|---|---|")
    for name in memory:
        m_over = memory[name] - memory["no instrumentation"]
        s_over = sqlite[name] - sqlite["no instrumentation"]
        print(f"| {name} | {memory[name]:,.0f} | {m_over:,.0f} | {sqlite[name]:,.0f} | "
              f"{s_over:,.0f} |")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
