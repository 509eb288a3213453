"""Charts at 5-minute steps read 5-minute sums, and answer exactly what the minutes answer."""

from __future__ import annotations

import random
from typing import Any

import pytest

from infra import fives, query, reader
from infra.samples import Batch
from infra.shard import ShardCore
from localedge.storage import DurableObjectStorage
from tests.workers.infra.helpers import HOUR, MINUTE, T0

NOW = T0 + 3 * HOUR


def filled(core: ShardCore) -> None:
    """Three hours of a counter, a gauge (two series) and a histogram, some minutes missing;
    the first two hours compacted into chunks, the third still in head."""
    rng = random.Random(3)
    batch = Batch()
    for minute in range(180):
        if minute % 17 == 5:
            continue
        t = T0 + minute * MINUTE
        batch.number("reqs", {"route": "/a"}, t, float(rng.randint(0, 40)), counter=True)
        for host in ("h1", "h2"):
            batch.number("temp", {"host": host}, t, round(rng.uniform(10, 30), 2), counter=False)
        batch.observation("lat", {}, t, rng.uniform(0.001, 0.5))
    part = batch.payloads(1)[0]
    core.ingest_payload(part["h"], part["d"], NOW)
    core.compact(T0 + 2 * HOUR + 10 * MINUTE)


def chart(core: ShardCore, metric: str, **extra: Any) -> list[Any]:
    spec = {"metric": metric, "matchers": [], "start_ms": T0, "end_ms": NOW - 1,
            "step_s": 300, **extra}  # fmt: skip
    return [s["values"] for s in reader.run_query(core, spec, NOW)["series"]]


def by_minutes(core: ShardCore, metric: str, fn: str, counter: bool) -> list[Any]:
    """The same chart computed from the minutes, as every query did before 5-minute sums."""
    grid = query.Grid(T0 // MINUTE, 5, 36)
    members = sorted(core.catalog.family(metric), key=lambda s: s.labels)
    minutes = core.minutes(members, grid.first, grid.first + 179)
    return [query.scalar_minutes(minutes[s.id], grid, fn, counter) for s in members]


@pytest.mark.parametrize(("metric", "fn", "counter"), [
    ("reqs", "sum", True), ("reqs", "rate", True), ("reqs", "avg", True),
    ("temp", "avg", False), ("temp", "sum", False),
])  # fmt: skip
def test_five_minute_sums_answer_as_the_minutes_do(
    storage: DurableObjectStorage, metric: str, fn: str, counter: bool
) -> None:
    core = ShardCore(storage.sql)
    filled(core)
    expected = by_minutes(core, metric, fn, counter)
    # Two-decimal gauges are summed exactly by 5 minutes; the minutes add floats.
    assert chart(core, metric, fn=fn) == [pytest.approx(v, rel=1e-12) for v in expected]


def test_histograms_late_samples_and_chunks_without_sums(storage: DurableObjectStorage) -> None:
    core = ShardCore(storage.sql)
    filled(core)
    p95 = chart(core, "lat", fn="p95")
    members = core.catalog.family("lat")
    assert core.fives(members, T0 // MINUTE, NOW // MINUTE - 1) is not None
    storage.sql.exec("UPDATE chunks SET fives = NULL")  # written before the column existed
    assert chart(core, "lat", fn="p95") == p95
    late = Batch()
    late.number("reqs", {"route": "/a"}, T0 + 7 * MINUTE, 1000.0, counter=True)
    core.ingest(list(late.entries.values()), NOW)
    reqs = core.catalog.family("reqs")
    assert core.fives(reqs, T0 // MINUTE, NOW // MINUTE - 1) is None  # chunk and head overlap
    assert chart(core, "reqs") == by_minutes(core, "reqs", "sum", True)
    assert chart(core, "reqs")[0][1] >= 1000.0  # the late sample is in its 5 minutes


def test_fives_round_trip() -> None:
    minutes = [None if m % 7 == 0 else float(m) for m in range(60)]
    sums, counts = fives.decode(fives.encode(minutes))
    assert sums[0] == 1.0 + 2 + 3 + 4 and counts[0] == 4.0
    assert sums[11] == 55.0 + 57 + 58 + 59 and counts[11] == 4.0
    assert fives.decode(fives.encode([None] * 60)) == ([None] * 12, [None] * 12)


def test_counts_are_stored_only_when_a_minute_is_missing() -> None:
    full = [float(m) for m in range(60)]
    assert fives.decode(fives.encode(full)) == (
        [float(sum(range(k * 5, k * 5 + 5))) for k in range(12)],
        [5.0] * 12,
    )
    gap = [*full[:59], None]
    assert len(fives.encode(gap)) > len(fives.encode(full))
    assert fives.decode(fives.encode(gap))[1] == [5.0] * 11 + [4.0]
