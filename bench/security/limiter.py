"""Rate-limiter decisions per second, in-process, beside the `limits` package (memory and Redis
storage) and a Redis GCRA script; and how far the sliding-window counter strays from an exact
sliding log on one bursty, near-the-limit trace. Redis runs on loopback only, started here."""

from __future__ import annotations

import contextlib
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator

from machine import ROOT, header  # noqa: F401 - also sets the import path

from security.limit.window import CounterState, LogState, sliding_counter, sliding_log

LIMIT, WINDOW_MS = 100, 60_000
KEYS = 1_000
SECONDS = 2.0  # per measurement: bounded

GCRA = """
local key, rate, burst, now = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local interval = 60000 / rate
local tat = tonumber(redis.call('GET', key) or now)
if tat < now then tat = now end
local allow_at = tat - burst * interval
if now < allow_at then return {0, math.ceil(allow_at - now)} end
redis.call('SET', key, tat + interval, 'PX', 60000 + burst * interval)
return {1, 0}
"""


def rate(step: Callable[[int], object], seconds: float = SECONDS) -> float:
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(500):
            step(done)
            done += 1
    return done / elapsed


def ours_counter() -> Callable[[int], object]:
    states = [CounterState() for _ in range(KEYS)]
    return lambda i: sliding_counter(states[i % KEYS], i * 3 // 5, LIMIT, WINDOW_MS)


def ours_log() -> Callable[[int], object]:
    states = [LogState() for _ in range(KEYS)]
    return lambda i: sliding_log(states[i % KEYS], i * 3 // 5, LIMIT, WINDOW_MS)


def ours_shard() -> Callable[[int], object]:
    """The Durable Object path minus RPC: LimiterStore writing every decision to SQLite."""
    from pathlib import Path

    from localedge.storage import DurableObjectStorage  # the local DO storage, as the stack's
    from security.limit.store import LimiterStore

    storage = DurableObjectStorage(Path(tempfile.mkdtemp()) / "shard.sqlite")
    store = LimiterStore(storage.sql)
    rule = {"id": "bench", "limit": LIMIT, "window_s": WINDOW_MS // 1000}

    def step(i: int) -> object:
        decision = store.decide(rule, f"ip=10.0.{i % KEYS // 250}.{i % 250}", i * 3 // 5)
        storage.commit()  # each decision is one Durable Object event: its write is committed
        return decision

    return step


def ours_front(batch: int = 100, load: float = 1.0) -> Callable[[int], object]:
    """The isolate's path (security.front): decided on copies of the shard's counters; the
    shard counts the admissions in batches (one committed event per `batch` decisions) and
    decides itself near the limit, as the Worker does. Each key is offered `load` times its
    limit (1.0: exactly the limit, where the shard decides most often)."""
    from pathlib import Path

    from localedge.storage import DurableObjectStorage
    from security import front
    from security.limit.store import LimiterStore

    storage = DurableObjectStorage(Path(tempfile.mkdtemp()) / "shard.sqlite")
    store = LimiterStore(storage.sql)
    rule = {"id": "bench", "limit": LIMIT, "window_s": WINDOW_MS // 1000, "mode": "sliding_window"}
    local = front.Front()
    queued: list[tuple[str, int]] = []

    def step(i: int) -> object:
        key, now = f"ip=10.0.{i % KEYS // 250}.{i % 250}", int(i * 0.6 / load)
        item = {"rule": rule, "key": key}
        decided = front.decide(local, [item], now)
        if decided is None:  # no copy, or near the limit: the shard decides (after the queue)
            flush()
            decision = store.decide(rule, key, now)
            storage.commit()
            state = store.counter_state("bench", key, WINDOW_MS)
            front.rebase(local, ("bench", key), WINDOW_MS, CounterState(*vars_of(state)))
            return decision
        queued.append((key, now))
        if len(queued) >= batch:
            flush()
        return decided

    def flush() -> None:
        for key, now in queued:
            store.admit(rule, key, now)
        store.write_admitted()
        storage.commit()
        local.pending.clear()
        for key in {k for k, _ in queued}:
            state = store.counter_state("bench", key, WINDOW_MS)
            front.rebase(local, ("bench", key), WINDOW_MS, CounterState(*vars_of(state)))
        queued.clear()

    return step


def vars_of(state: CounterState) -> tuple[int, int, int]:
    return state.window_start_ms, state.current, state.previous


def limits_peer(storage_uri: str, strategy: str) -> Callable[[int], object] | str:
    try:
        import limits
        from limits import storage, strategies
    except ImportError as error:
        return f"limits not installed ({error})"
    try:
        backend = storage.storage_from_string(storage_uri)
        limiter = getattr(strategies, strategy)(backend)
        item = limits.RateLimitItemPerMinute(LIMIT)
        limiter.hit(item, "probe")
    except Exception as error:
        return f"{type(error).__name__}: {error}"[:100]
    return lambda i: limiter.hit(item, str(i % KEYS))


@contextlib.contextmanager
def redis_server() -> Iterator[int | str]:
    if shutil.which("redis-server") is None:
        yield "redis-server not installed"
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(5)


def gcra_peer(port: int) -> Callable[[int], object] | str:
    try:
        import redis
    except ImportError as error:
        return f"redis client not installed ({error})"
    client = redis.Redis(port=port)
    script = client.register_script(GCRA)
    return lambda i: script(keys=[f"g{i % KEYS}"], args=[LIMIT, 0, i * 3 // 5])


def disagreement() -> list[str]:
    """One bursty trace near the limit: bursts of 20-60 requests with quiet gaps, ~limit/min."""
    rng = random.Random(7)
    t, times = 0, []
    while t < 30 * WINDOW_MS:
        for _ in range(rng.randint(20, 60)):
            times.append(t + rng.randint(0, 2_000))
        t += rng.randint(15_000, 45_000)
    times.sort()
    counter, log = CounterState(), LogState()
    admitted_counter: list[int] = []
    differ = over = under = 0
    for now in times:
        a = sliding_counter(counter, now, LIMIT, WINDOW_MS).allowed
        b = sliding_log(log, now, LIMIT, WINDOW_MS).allowed
        differ += a != b
        over += a and not b
        under += b and not a
        if a:
            admitted_counter.append(now)
    # Worst true sliding-window count the counter let through (exact check over its admits).
    worst, left = 0, 0
    for right, now in enumerate(admitted_counter):
        while admitted_counter[left] <= now - WINDOW_MS:
            left += 1
        worst = max(worst, right - left + 1)
    return [
        f"trace: {len(times)} requests in 30 windows, bursts of 20-60, limit {LIMIT}/60 s",
        f"decisions differing from the exact log: {differ} ({differ / len(times):.2%}); "
        f"counter admitted where exact denied: {over}, denied where exact admitted: {under}",
        f"most requests the counter admitted in any true 60 s window: {worst} "
        f"(limit {LIMIT}, {worst / LIMIT - 1:+.0%})",
    ]


def main() -> None:
    print(header("security rate limiter"))
    rows: list[tuple[str, float | str]] = [
        ("ours: sliding window counter (pure, in memory)", rate(ours_counter())),
        ("ours: exact sliding log (pure, in memory)", rate(ours_log())),
        ("ours: shard store, every decision written to DO SQLite", rate(ours_shard(), 1.0)),
        ("ours: isolate copy, batches of 100, keys at their limit", rate(ours_front(), 1.0)),
        ("ours: isolate copy, batches of 100, keys at half", rate(ours_front(load=0.5), 1.0)),
    ]
    for name, strategy in (
        ("moving window", "MovingWindowRateLimiter"),
        ("sliding window counter", "SlidingWindowCounterRateLimiter"),
        ("fixed window", "FixedWindowRateLimiter"),
    ):
        peer = limits_peer("memory://", strategy)
        rows.append((f"limits {name}, memory", peer if isinstance(peer, str) else rate(peer)))
    with redis_server() as port:
        if isinstance(port, str):
            rows += [("limits + Redis", port), ("Redis GCRA script", port)]
        else:
            for name, strategy in (
                ("moving window", "MovingWindowRateLimiter"),
                ("sliding window counter", "SlidingWindowCounterRateLimiter"),
            ):
                peer = limits_peer(f"redis://127.0.0.1:{port}", strategy)
                rows.append(
                    (
                        f"limits {name}, Redis (loopback)",
                        peer if isinstance(peer, str) else rate(peer, 1.0),
                    )
                )
            gcra = gcra_peer(port)
            rows.append(
                (
                    "Redis GCRA Lua script (loopback)",
                    gcra if isinstance(gcra, str) else rate(gcra, 1.0),
                )
            )
    print(f"{'limiter':<60}{'decisions/s':>14}")
    for name, value in rows:
        shown = f"{value:,.0f}" if isinstance(value, float) else f"not run: {value}"
        print(f"{name:<60}{shown:>14}")
    print(
        f"({KEYS} keys round-robin, each offered ~{LIMIT}/min (one request per key every 600 ms"
        f" of simulated time); one thread)\n"
    )
    print("\n".join(disagreement()))


if __name__ == "__main__":
    main()
