"""Aggregation per minute: exact counts, a latency grid, bounded memory, RPC-safe batches."""

from __future__ import annotations

import math

import pytest

from obs_schema.telemetry.recorder import ZERO_BUCKET, Recorder, bucket_of

T = 1_767_225_600.0  # a minute boundary


@pytest.mark.parametrize(
    ("seconds", "bucket"),
    [(0.0, ZERO_BUCKET), (1.0, 0), (2.0, 8), (0.5, -8), (0.004, -63), (1.05, 1), (2.01, 9)],
)
def test_durations_fall_in_buckets_of_an_eighth_of_a_doubling(seconds: float, bucket: int) -> None:
    assert bucket_of(seconds) == bucket
    if seconds > 0:
        assert 2 ** ((bucket - 1) / 8) < seconds <= 2 ** (bucket / 8) * (1 + 1e-12)


def test_operations_and_invocations_aggregate_per_minute_and_drain_once() -> None:
    recorder = Recorder("logs")
    recorder.op(T + 1, "kv", "CONFIG", "get", "hit", 0.004, 120)
    recorder.op(T + 30, "kv", "CONFIG", "get", "hit", 0.002, 80)
    recorder.op(T + 61, "kv", "CONFIG", "get", "miss", 0.0, 0)
    recorder.invocation(T + 2, 200, "LHR", 0.05, 3)
    recorder.invocation(T + 3, 503, "LHR", 0.5, 1)
    batch = recorder.drain()
    minute = int(T * 1000)
    assert batch == {
        "version": 1,
        "worker": "logs",
        "ops": [
            [minute, "kv", "CONFIG", "get", "hit", 2, 0.006, 0.004, 200, [[-71, 1], [-63, 1]]],
            [minute + 60_000, "kv", "CONFIG", "get", "miss", 1, 0.0, 0.0, 0, [[ZERO_BUCKET, 1]]],
        ],
        "invocations": [
            [minute, "2xx", "LHR", 1, 0.05, 0.05, 0, [[-34, 1]], 3, 0],
            [minute, "5xx", "LHR", 1, 0.5, 0.5, 0, [[-8, 1]], 1, 1],
        ],
        "dropped": {},
    }
    assert recorder.drain() is None


def test_past_the_key_limit_observations_are_counted_as_dropped() -> None:
    recorder = Recorder("logs", max_keys=2)
    for binding in ("A", "B", "C", "D"):
        recorder.op(T, "kv", binding, "get", "hit", 0.001, 0)
    recorder.op(T, "kv", "A", "get", "hit", 0.001, 0)  # an existing key still counts
    batch = recorder.drain()
    assert batch is not None
    assert [row[2] for row in batch["ops"]] == ["A", "B"] and batch["ops"][0][5] == 2
    assert batch["dropped"] == {"overflow": 2}


def test_batches_hold_only_json_and_rpc_safe_types() -> None:
    recorder = Recorder("apm")
    recorder.op(T, "r2", "ARCHIVE", "put", "ok", math.pi, 1 << 20)
    batch = recorder.drain()

    def plain(value: object) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return isinstance(value, str | int | float)

    assert plain(batch)
