"""Minute sketches and daily running hour totals answer every window exactly like raw data."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from apm.rows import ALL_ROUTES
from apm.shards import StatsShardCore
from apm.statstore import StatsStore
from apm.window import window
from localedge.storage import DurableObjectStorage
from obs_schema.sketch import Sketch

DAY_START = 29_454_240  # minute of 2026-01-01T00:00Z
Point = tuple[int, float, bool]  # minute, latency ms, error


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StatsStore]:
    storage = DurableObjectStorage(tmp_path / "stats.sqlite")
    yield StatsStore(storage.sql)
    storage.close()


def record(store: StatsStore, points: list[Point], b: str = "/pitches") -> None:
    by_minute: dict[int, list[Point]] = {}
    for point in points:
        by_minute.setdefault(point[0], []).append(point)
    entries = []
    for minute, group in by_minute.items():
        sketch = Sketch()
        for _, value, _ in group:
            sketch.add(value)
        errors = sum(1 for *_, error in group if error)
        example = [int(group[0][1] * 1e6), "t" * 32, f"{minute:016x}", minute * 60 * 10**9, errors]
        entries.append(
            {"kind": "route", "a": "api", "b": b, "minute": minute, "errors": errors,
             "sketch": sketch.to_bytes(), "examples": [example]}
        )  # fmt: skip
    store.record(entries)


def expected(points: list[Point], start: int, end: int) -> tuple[int, int, list[float | None]]:
    sketch = Sketch()
    errors = 0
    for minute, value, error in points:
        if start <= minute < end:
            sketch.add(value)
            errors += error
    return sketch.count, errors, [sketch.quantile(q) for q in (0.5, 0.95, 0.99)]


def answer(
    store: StatsStore, start: int, end: int, hourly: bool
) -> tuple[int, int, list[float | None]]:
    total = store.totals("route", start, end, hourly).get(("api", "/pitches"))
    if total is None:
        return 0, 0, [None, None, None]
    return total.count, total.errors, [total.sketch.quantile(q) for q in (0.5, 0.95, 0.99)]


def test_hour_windows_across_a_day_boundary_match_the_raw_data_exactly(store: StatsStore) -> None:
    rng = random.Random(3)
    first = DAY_START + 20 * 60  # 20:00 on day one, through 08:00 on day two
    points = [
        (first + rng.randrange(12 * 60), rng.lognormvariate(3, 1), rng.random() < 0.05)
        for _ in range(3000)
    ]
    for batch in range(0, 3000, 500):
        record(store, points[batch : batch + 500])
    assert store.rollup(first + 10 * 60 + 17) > 0  # watermark mid-hour on day two
    windows = [(20, 32), (21, 27), (24, 31), (20, 24), (23, 25), (30, 33)]
    for start_hour, end_hour in windows:  # decoded hour rows are now cached in memory
        answer(store, DAY_START + start_hour * 60, DAY_START + end_hour * 60, hourly=True)
    late = [(first + 30, 999.0, True), (first + 5 * 60, 1.0, False)]  # already rolled up
    fresh = [(first + 11 * 60 + 1, 50.0, False)]  # after the watermark
    record(store, late + fresh)
    points += late + fresh
    for start_hour, end_hour in windows:
        start, end = DAY_START + start_hour * 60, DAY_START + end_hour * 60
        assert answer(store, start, end, hourly=True) == expected(points, start, end)
    assert answer(store, first + 7, first + 125, hourly=False) == expected(
        points, first + 7, first + 125
    )


def test_a_second_rollup_continues_from_the_watermark(store: StatsStore) -> None:
    points = [(DAY_START + m, 10.0 + m, False) for m in range(0, 300, 7)]
    record(store, points[:20])
    store.rollup(DAY_START + 100)
    record(store, points[20:])
    store.rollup(DAY_START + 250)
    store.rollup(DAY_START + 250)  # nothing new: idempotent
    assert answer(store, DAY_START, DAY_START + 360, True) == expected(
        points, DAY_START, DAY_START + 360
    )
    assert store.watermark() == DAY_START + 250


def test_keys_quiet_since_an_earlier_hour_stay_in_windows_rolled_minute_by_minute(
    store: StatsStore,
) -> None:
    points = [(DAY_START + 60 + m, 10.0 + m, m == 3) for m in range(10)]  # 01:00-01:10 only
    record(store, points)
    for minute in range(DAY_START + 61, DAY_START + 4 * 60 + 5):  # as the minute cron does
        store.rollup(minute)
    for end_hour in (2, 3, 4, 5):  # windows ending in hours the key was quiet in
        start, end = DAY_START, DAY_START + end_hour * 60
        assert answer(store, start, end, hourly=True) == expected(points, start, end)


def test_series_buckets_by_hour_and_by_minute(store: StatsStore) -> None:
    points = [(DAY_START + m, 5.0, m % 2 == 0) for m in range(0, 180)]
    record(store, points)
    store.rollup(DAY_START + 150)
    hourly = store.series("route", "api", None, DAY_START, DAY_START + 180, 60, True)
    assert {m - DAY_START: (t.count, t.errors) for m, t in hourly.items()} == {
        0: (60, 30),
        60: (60, 30),
        120: (60, 30),
    }
    minutes = store.series("route", "api", "/pitches", DAY_START, DAY_START + 10, 5, False)
    assert [(m - DAY_START, t.count) for m, t in sorted(minutes.items())] == [(0, 5), (5, 5)]


def test_hourly_series_percentiles_match_each_hours_raw_data(store: StatsStore) -> None:
    # An hour's total is a difference of running totals: its extremes are unknown, and merging
    # it into an empty bucket must not turn them into +-inf (which clamped every quantile).
    points = [(DAY_START + m, 5.0 + m, False) for m in range(0, 180)]
    record(store, points)
    store.rollup(DAY_START + 150)
    hourly = store.series("route", "api", None, DAY_START, DAY_START + 180, 60, True)
    for minute, total in hourly.items():
        _, _, quantiles = expected(points, minute, minute + 60)
        assert [total.sketch.quantile(q) for q in (0.5, 0.95, 0.99)] == pytest.approx(
            quantiles, rel=0.01
        )


def test_per_service_numbers_of_a_window_starting_mid_day_match_the_raw_data(
    tmp_path: Path,
) -> None:
    storage = DurableObjectStorage(tmp_path / "shard.sqlite")
    core = StatsShardCore(storage.sql)
    points = [(DAY_START + 60 + m, 5.0 + m, False) for m in range(0, 300, 3)]  # 01:00-06:00
    record(core.store, points)
    record(core.store, points, b=ALL_ROUTES)  # the per-service key ingest keeps
    core.store.rollup(DAY_START + 7 * 60)
    start, end = DAY_START + 3 * 60, DAY_START + 6 * 60  # row(05:00) - row(02:00)
    described = json.loads(core.describe("route", start, end, True, None, 100.0))
    count, _, quantiles = expected(points, start, end)
    numbers = [described["groups"][0][1], described["keys"][0][2]]  # service, route
    for found in numbers:
        assert found["requests"] == count
        assert [found["p50_ms"], found["p95_ms"], found["p99_ms"]] == pytest.approx(
            quantiles, rel=0.01
        )
    storage.close()


def test_pruning_keeps_what_is_not_rolled_up(store: StatsStore) -> None:
    record(store, [(DAY_START + m, 1.0, False) for m in range(10)])
    store.rollup(DAY_START + 5)
    dropped = store.prune(minute_floor=DAY_START + 100, hour_floor=0)
    assert dropped["minutes"] == 5  # minutes 5..9 are not in any hour row yet
    assert answer(store, DAY_START, DAY_START + 60, True)[0] == 10


def test_examples_keep_the_slowest_of_each_hour(store: StatsStore) -> None:
    record(store, [(DAY_START + m, float(m), m == 3) for m in range(10)])
    found = store.examples("route", "api", None, DAY_START, DAY_START + 60, 3)
    assert [e["duration_ns"] for e in found] == [9_000_000, 8_000_000, 7_000_000]


def test_long_windows_are_read_at_hour_resolution() -> None:
    short, long = window(0, 3 * 3_600_000), window(90_000, 10 * 3_600_000 + 1)
    assert (short.start, short.end, short.hourly) == (0, 181, False)
    assert (long.start, long.end, long.hourly) == (0, 660, True)
