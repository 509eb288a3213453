"""A batch's per-minute entries: counts, errors and the examples a stats shard keeps."""

from __future__ import annotations

from apm.sharding import stats_shard
from apm.stats import Collector


def entry(collector: Collector) -> dict[str, object]:
    (entries,) = collector.by_shard().values()
    (found,) = entries
    return found


def test_the_slowest_span_and_the_last_error_are_the_examples() -> None:
    collector = Collector()
    collector.add("route", "api", "/a", 0, 5_000_000, False, "t1", "s1")
    collector.add("route", "api", "/a", 0, 9_000_000, False, "t2", "s2")  # slowest
    collector.add("route", "api", "/a", 0, 2_000_000, True, "t3", "s3")  # an error
    found = entry(collector)
    assert found["errors"] == 1
    assert found["examples"] == [
        [9_000_000, "t2", "s2", 0, False],
        [2_000_000, "t3", "s3", 0, True],
    ]
    assert collector.by_shard().keys() == {stats_shard("route", "api")}


def test_an_error_that_is_also_the_slowest_is_one_example() -> None:
    collector = Collector()
    collector.add("db", "postgresql", "select ?", 0, 1_000_000, False, "t1", "s1")
    collector.add("db", "postgresql", "select ?", 0, 4_000_000, True, "t2", "s2")
    found = entry(collector)
    assert (found["errors"], found["examples"]) == (1, [[4_000_000, "t2", "s2", 0, True]])
