"""Binding telemetry batches (from every Worker's `obs_schema.telemetry`) into stored series.

Series written, per minute:
- `binding_operations_total{worker, class, binding, op, outcome}` (counter)
- `binding_operation_duration_seconds{worker, class, binding, op}` (histogram, grid buckets)
- `binding_operation_max_seconds{worker, class, binding, op}` (gauge, slowest in the minute)
- `binding_transfer_bytes_total{worker, class, binding, op}` (counter, when bytes are known)
- `worker_invocations_total{worker, status, colo}` (counter; status is `2xx`, `4xx`, `5xx`...)
- `worker_invocation_duration_seconds{worker, colo}` (histogram, wall time)
- `worker_subrequests_total{worker}` (counter)
- `telemetry_dropped_total{worker, reason}` (counter)

A malformed row is skipped and counted; the rest of the batch is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infra import store
from infra.samples import Batch, grid_bound

KINDS = frozenset({"kv", "r2", "do", "service"})
MAX_LABEL = 128
ZERO_BUCKET = -(2**31)
GRID_STEPS = 8


def add_batch(batch: Batch, data: Any, now_ms: int) -> tuple[int, int]:
    """Add one telemetry batch; returns (rows stored, rows skipped)."""
    if not isinstance(data, dict) or not isinstance(data.get("worker"), str):
        return 0, 1
    worker = data["worker"][:MAX_LABEL]
    stored = skipped = 0
    for row in _rows(data.get("ops")):
        try:
            _op(batch, worker, row)
            stored += 1
        except (TypeError, ValueError, IndexError):
            skipped += 1
    for row in _rows(data.get("invocations")):
        try:
            _invocation(batch, worker, row)
            stored += 1
        except (TypeError, ValueError, IndexError):
            skipped += 1
    dropped = data.get("dropped")
    for reason, count in dropped.items() if isinstance(dropped, dict) else ():
        if isinstance(count, int) and count > 0:
            labels = {"worker": worker, "reason": str(reason)[:MAX_LABEL]}
            batch.number("telemetry_dropped_total", labels, now_ms, count, counter=True)
    return stored, skipped


def _op(batch: Batch, worker: str, row: Sequence[Any]) -> None:
    minute, kind, binding, op, outcome, count, seconds, slowest, nbytes, buckets = row
    if kind not in KINDS:
        raise ValueError(f"unknown binding class {kind!r}")
    labels = {"worker": worker, "class": kind, "binding": _label(binding), "op": _label(op)}
    t = _minute(minute)
    batch.number("binding_operations_total", {**labels, "outcome": _label(outcome)}, t,
                 _count(count), counter=True)  # fmt: skip
    batch.histogram("binding_operation_duration_seconds", labels, t, _count(count),
                    float(seconds), _grid(buckets), unit="s", grid=True)  # fmt: skip
    batch.number("binding_operation_max_seconds", labels, t, float(slowest), counter=False,
                 agg="max", unit="s")  # fmt: skip
    if _count(nbytes):
        batch.number("binding_transfer_bytes_total", labels, t, _count(nbytes), counter=True,
                     unit="By")  # fmt: skip


def _invocation(batch: Batch, worker: str, row: Sequence[Any]) -> None:
    minute, status, colo, count, seconds, _slowest, _bytes, buckets, subrequests, _errors = row
    t = _minute(minute)
    labels = {"worker": worker, "status": _label(status), "colo": _label(colo)}
    batch.number("worker_invocations_total", labels, t, _count(count), counter=True)
    where = {"worker": worker, "colo": labels["colo"]}
    batch.histogram("worker_invocation_duration_seconds", where, t, _count(count),
                    float(seconds), _grid(buckets), unit="s", grid=True)  # fmt: skip
    if _count(subrequests):
        batch.number("worker_subrequests_total", {"worker": worker}, t, _count(subrequests),
                     counter=True)  # fmt: skip


def _grid(buckets: Any) -> list[tuple[float, float]]:
    out = []
    for key, count in buckets:
        upper = 0.0 if key == ZERO_BUCKET else grid_bound(int(key) / GRID_STEPS)
        out.append((upper, float(_count(count))))
    return out


def _rows(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("counts are non-negative integers")
    return int(value)


def _minute(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("minute must be epoch milliseconds")
    return int(value)


def _label(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("labels are non-empty strings")
    return value[:MAX_LABEL]


async def receive(env: Any, data: Any, now_ms: int) -> dict[str, Any]:
    """Store one batch (the `record_telemetry` RPC and the infra Worker's own sink)."""
    batch = Batch()
    stored, skipped = add_batch(batch, data, now_ms)
    result = await store.write(env, batch, now_ms) if batch.points else {"rejected": 0}
    return {"accepted": stored, "skipped": skipped, "refused": int(result["rejected"])}
