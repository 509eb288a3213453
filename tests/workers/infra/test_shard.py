"""A shard on a real Durable Object SQLite file: ingest, compaction, rollups, retention."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from infra import codec
from infra.samples import Batch
from infra.shard import ShardCore
from localedge.storage import DurableObjectStorage
from tests.workers.infra.helpers import HOUR, MINUTE, T0


def entries(batch: Batch) -> list[dict[str, Any]]:
    return list(batch.entries.values())


def gauge(name: str, points: list[tuple[int, float]], **labels: str) -> list[dict[str, Any]]:
    batch = Batch()
    for t, v in points:
        batch.number(name, labels, t, v, counter=False)
    return entries(batch)


def counter(name: str, points: list[tuple[int, float]], cumulative: bool = False,
            start: int = 0) -> list[dict[str, Any]]:  # fmt: skip
    batch = Batch()
    for t, v in points:
        batch.number(name, {}, t, v, counter=True, cumulative=cumulative, start_ms=start)
    return entries(batch)


def minutes_of(core: ShardCore, name: str, first: int, last: int) -> dict[int, float]:
    series = [s for s in core.catalog.family(name) if s.name == name]
    return core.minutes(series, first // MINUTE, last // MINUTE)[series[0].id]


def test_gauges_keep_the_last_value_of_a_minute_and_counters_add_up(
    storage: DurableObjectStorage,
) -> None:
    core = ShardCore(storage.sql)
    core.ingest(gauge("depth", [(T0, 3), (T0 + 1000, 5), (T0 + MINUTE, 9)]), T0 + MINUTE)
    core.ingest(counter("hits", [(T0, 2), (T0 + 30_000, 3)]), T0 + MINUTE)
    core.ingest(counter("hits", [(T0 + 50_000, 4)]), T0 + MINUTE)
    assert minutes_of(core, "depth", T0, T0 + MINUTE) == {T0 // MINUTE: 5.0, T0 // MINUTE + 1: 9.0}
    assert minutes_of(core, "hits", T0, T0) == {T0 // MINUTE: 9.0}


def test_cumulative_counters_become_increases_with_resets_counted_in_full(
    storage: DurableObjectStorage,
) -> None:
    core = ShardCore(storage.sql)
    start = T0 - 2 * MINUTE  # a young stream: its first total counts
    points = [(T0, 10.0), (T0 + MINUTE, 15.0), (T0 + 2 * MINUTE, 4.0), (T0 + 3 * MINUTE, 6.0)]
    result = core.ingest(counter("reqs", points, cumulative=True, start=start), T0 + 3 * MINUTE)
    assert result.as_dict() == {"accepted": 4, "rejected": 0, "errors": []}
    got = minutes_of(core, "reqs", T0, T0 + 3 * MINUTE)
    assert list(got.values()) == [10.0, 5.0, 4.0, 2.0]


def test_an_old_cumulative_stream_starts_counting_from_its_next_sample(
    storage: DurableObjectStorage,
) -> None:
    core = ShardCore(storage.sql)
    start = T0 - 5 * HOUR
    core.ingest(counter("reqs", [(T0, 1000.0)], cumulative=True, start=start), T0)
    late = core.ingest(counter("reqs", [(T0 - MINUTE, 990.0)], cumulative=True, start=start), T0)
    core.ingest(counter("reqs", [(T0 + MINUTE, 1007.0)], cumulative=True, start=start), T0)
    assert list(minutes_of(core, "reqs", T0, T0 + MINUTE).values()) == [0.0, 7.0]
    assert late.rejected == 1 and late.errors == ["cumulative sample older than the last one"]


def test_samples_outside_the_window_are_rejected_and_the_rest_kept(
    storage: DurableObjectStorage,
) -> None:
    core = ShardCore(storage.sql)
    points = [(T0 - 8 * 24 * HOUR, 1.0), (T0, 2.0), (T0 + HOUR, 3.0)]
    result = core.ingest(gauge("g", points), T0)
    assert (result.accepted, result.rejected) == (1, 2)


def test_the_series_limit_refuses_new_series_only(tmp_path: Path) -> None:
    storage = DurableObjectStorage(tmp_path / "s.sqlite")
    core = ShardCore(storage.sql, max_series=2)
    result = core.ingest(gauge("a", [(T0, 1)]) + gauge("b", [(T0, 1)]) + gauge("c", [(T0, 1)]), T0)
    again = core.ingest(gauge("a", [(T0 + MINUTE, 2)]), T0 + MINUTE)
    assert (result.accepted, result.rejected) == (2, 1)
    assert result.errors == ["series limit of 2 per shard reached"]
    assert again.accepted == 1
    storage.close()


def test_compaction_moves_finished_hours_into_chunks_and_rollups(
    storage: DurableObjectStorage,
) -> None:
    core = ShardCore(storage.sql)
    points = [(T0 + i * MINUTE, float(i)) for i in range(90)]
    core.ingest(gauge("g", points), T0 + 90 * MINUTE)
    assert core.compact(T0 + 90 * MINUTE) == 1
    sizes = core.size()
    assert (sizes["chunks"], sizes["rollups"], sizes["head"]) == (1, 1, 30)
    assert minutes_of(core, "g", T0, T0 + 89 * MINUTE) == {
        T0 // MINUTE + i: float(i) for i in range(90)
    }
    series = core.catalog.family("g")
    assert core.hours(series, T0 // HOUR, T0 // HOUR + 1)[series[0].id] == {
        T0 // HOUR: (60.0, float(sum(range(60))), 0.0, 59.0),
        T0 // HOUR + 1: (30.0, float(sum(range(60, 90))), 60.0, 89.0),
    }


def test_late_samples_merge_into_an_already_compacted_hour(storage: DurableObjectStorage) -> None:
    core = ShardCore(storage.sql)
    core.ingest(counter("hits", [(T0 + i * MINUTE, 1.0) for i in range(60)]), T0 + HOUR)
    core.compact(T0 + 2 * HOUR)
    core.ingest(counter("hits", [(T0 + 5 * MINUTE, 2.0)]), T0 + 2 * HOUR)
    assert minutes_of(core, "hits", T0 + 5 * MINUTE, T0 + 5 * MINUTE) == {T0 // MINUTE + 5: 3.0}
    core.compact(T0 + 2 * HOUR)
    row = storage.sql.exec("SELECT data FROM chunks").one()
    assert codec.decode(row["data"])[5] == 3.0 and core.size()["head"] == 0


def test_retention_drops_minute_data_after_7_days_and_rollups_after_90(
    storage: DurableObjectStorage,
) -> None:
    core = ShardCore(storage.sql)
    core.ingest(gauge("g", [(T0, 1.0)]), T0)
    core.compact(T0 + 2 * HOUR)
    assert core.expire(T0 + 7 * 24 * HOUR + 2 * HOUR) == {"chunks": 1, "rollups": 0, "series": 0}
    series = core.catalog.family("g")
    assert core.hours(series, T0 // HOUR, T0 // HOUR)[series[0].id][T0 // HOUR][1] == 1.0
    assert core.expire(T0 + 92 * 24 * HOUR) == {"chunks": 0, "rollups": 1, "series": 1}
    assert core.catalog.family("g") == []


def test_what_was_ingested_survives_reopening_the_object(tmp_path: Path) -> None:
    storage = DurableObjectStorage(tmp_path / "s.sqlite")
    core = ShardCore(storage.sql)
    core.ingest(counter("reqs", [(T0, 5.0)], cumulative=True, start=T0 - MINUTE), T0)
    storage.commit()
    storage.close()
    reopened = DurableObjectStorage(tmp_path / "s.sqlite")
    core = ShardCore(reopened.sql)
    core.ingest(counter("reqs", [(T0 + MINUTE, 8.0)], cumulative=True, start=T0 - MINUTE), T0)
    assert list(minutes_of(core, "reqs", T0, T0 + MINUTE).values()) == [5.0, 3.0]
    reopened.close()


def payload(batch: Batch) -> tuple[str, bytes]:
    part = batch.payloads(1)[0]
    return part["h"], part["d"]


def test_a_logged_payload_is_replayed_after_a_restart_before_any_flush(tmp_path: Path) -> None:
    storage = DurableObjectStorage(tmp_path / "s.sqlite")
    core = ShardCore(storage.sql)
    first, second = Batch(), Batch()
    first.number("reqs", {"a": "1"}, T0, 5.0, counter=True, cumulative=True, start_ms=T0 - MINUTE)
    first.histogram("lat", {}, T0, 2, 0.3, [(0.1, 1), (math.inf, 1)])
    core.ingest_payload(*payload(first), T0)
    core.flush()
    assert storage.sql.exec("SELECT count(*) AS n FROM log").one()["n"] == 0
    second.number("reqs", {"a": "1"}, T0 + MINUTE, 8.0, counter=True, cumulative=True,
                  start_ms=T0 - MINUTE)  # fmt: skip
    second.number("depth", {}, T0 + MINUTE, 4.0, counter=False)
    result = core.ingest_payload(*payload(second), T0 + MINUTE)
    assert result.as_dict() == {"accepted": 2, "rejected": 0, "errors": []}
    assert storage.sql.exec("SELECT count(*) AS n FROM head").one()["n"] == 5  # not flushed yet
    storage.commit()  # the event ends: what was acknowledged is on disk (in the log)
    storage.close()
    reopened = DurableObjectStorage(tmp_path / "s.sqlite")
    core = ShardCore(reopened.sql)
    assert list(minutes_of(core, "reqs", T0, T0 + MINUTE).values()) == [5.0, 3.0]
    assert minutes_of(core, "depth", T0, T0 + MINUTE) == {T0 // MINUTE + 1: 4.0}
    assert reopened.sql.exec("SELECT count(*) AS n FROM log").one()["n"] == 0
    reopened.close()


def test_reads_see_folded_samples_and_a_bad_payload_stores_nothing(
    storage: DurableObjectStorage,
) -> None:
    core = ShardCore(storage.sql)
    batch = Batch()
    batch.number("depth", {}, T0, 4.0, counter=False)
    header, data = payload(batch)
    core.ingest_payload(header, data, T0)
    assert minutes_of(core, "depth", T0, T0) == {T0 // MINUTE: 4.0}  # a read flushes first
    with pytest.raises(ValueError, match="does not match"):
        core.ingest_payload(header, data[:-8], T0)
    assert storage.sql.exec("SELECT count(*) AS n FROM log").one()["n"] == 0


def test_a_payload_block_with_varied_and_unordered_times(storage: DurableObjectStorage) -> None:
    core = ShardCore(storage.sql)
    batch = Batch()
    start = T0 - MINUTE  # a young stream: its first total counts
    for t, total in ((T0 + 2 * MINUTE, 9.0), (T0, 4.0), (T0 + MINUTE, 6.0)):
        batch.number("reqs", {}, t, total, counter=True, cumulative=True, start_ms=start)
    batch.number("reqs", {"a": "2"}, T0, 1.0, counter=True, cumulative=True, start_ms=T0)
    result = core.ingest_payload(*payload(batch), T0 + 2 * MINUTE)
    assert result.as_dict() == {"accepted": 4, "rejected": 0, "errors": []}
    assert list(minutes_of(core, "reqs", T0, T0 + 2 * MINUTE).values()) == [4.0, 2.0, 3.0]
