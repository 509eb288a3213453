"""Tail sampling keeps errors and slow traces, and a stable fraction of the rest."""

from __future__ import annotations

import random
from typing import Any

import pytest

from apm.sampling import Policy, fraction, keep, split


def trace(trace_id: str, ms: float = 10.0, errors: int = 0) -> dict[str, Any]:
    return {"trace_id": trace_id, "start_ns": 0, "end_ns": int(ms * 1e6), "error_count": errors}


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (trace("f" * 32, errors=1), True),
        (trace("f" * 32, ms=1000.0), True),
        (trace("f" * 32, ms=999.0), False),
        (trace("0" * 31 + "1"), True),  # falls under the kept fraction
    ],
)
def test_errors_and_slow_traces_are_always_kept(given: dict[str, Any], kept: bool) -> None:
    assert keep(given, Policy(keep_fraction=0.1, latency_ms=1000.0)) is kept


def test_the_kept_fraction_is_close_to_the_policy_and_the_same_on_every_shard() -> None:
    rng = random.Random(5)
    ids = [f"{rng.getrandbits(128):032x}" for _ in range(20_000)]
    kept, dropped = split([trace(i) for i in ids], Policy(keep_fraction=0.25))
    assert 0.24 < len(kept) / len(ids) < 0.26
    assert split([trace(i) for i in reversed(ids)], Policy(keep_fraction=0.25))[0] == kept[::-1]
    assert all(0.0 <= fraction(i) < 1.0 for i in ids[:100]) and not set(kept) & set(dropped)


def test_policies_read_from_config_with_defaults() -> None:
    assert Policy.of({}) == Policy(1.0, 1000.0, 60.0)
    assert Policy.of({"keep_fraction": 0.5, "decision_wait_s": 5}).decision_wait_s == 5.0
