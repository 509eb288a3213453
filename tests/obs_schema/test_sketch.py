"""The quantile sketch stays within its relative accuracy, merges exactly and round-trips."""

from __future__ import annotations

import math
import random

import pytest

from obs_schema.sketch import Sketch, SketchError

QUANTILES = (0.0, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0)


def nearest_rank(ordered: list[float], q: float) -> float:
    return ordered[max(0, math.ceil(q * len(ordered) - 1e-9) - 1)]


def distributions() -> dict[str, list[float]]:
    rng = random.Random(7)
    return {
        "lognormal": [rng.lognormvariate(3.0, 1.0) for _ in range(20_000)],
        "bimodal": [
            rng.gauss(20, 3) if rng.random() < 0.8 else rng.gauss(900, 60) for _ in range(20_000)
        ],
        "pareto": [rng.paretovariate(1.2) for _ in range(20_000)],
        "with zeros": [0.0] * 50 + [rng.uniform(0.5, 2.0) for _ in range(500)],
    }


@pytest.mark.parametrize(("name", "values"), distributions().items())
@pytest.mark.parametrize("accuracy", [0.01, 0.02])
def test_every_quantile_is_within_the_relative_accuracy(
    name: str, values: list[float], accuracy: float
) -> None:
    values = [abs(v) for v in values]
    sketch = Sketch(accuracy)
    for value in values:
        sketch.add(value)
    ordered = sorted(values)
    for q in QUANTILES:
        exact, got = nearest_rank(ordered, q), sketch.quantile(q)
        assert got is not None
        assert abs(got - exact) <= accuracy * exact + 1e-12, (name, q, exact, got)
    assert sketch.count == len(values)
    assert sketch.sum == pytest.approx(sum(values))
    assert (sketch.min, sketch.max) == (ordered[0], ordered[-1])


def test_merged_shards_answer_exactly_like_one_sketch_of_everything() -> None:
    rng = random.Random(1)
    values = [rng.lognormvariate(2.0, 0.7) for _ in range(5_000)]
    whole, merged = Sketch(), Sketch()
    for value in values:
        whole.add(value)
    for start in range(0, len(values), 50):  # 100 "minutes"
        part = Sketch()
        for value in values[start : start + 50]:
            part.add(value)
        merged.merge(Sketch.from_bytes(part.to_bytes()))
    assert [merged.quantile(q) for q in QUANTILES] == [whole.quantile(q) for q in QUANTILES]
    assert merged.to_bytes() == whole.to_bytes()


def test_subtracting_a_prefix_leaves_the_rest() -> None:
    first, second, total = Sketch(), Sketch(), Sketch()
    for value in (1.0, 2.0, 3.0):
        first.add(value)
    for value in (100.0, 200.0):
        second.add(value)
    total.merge(first)
    total.merge(second)
    total.subtract(first)
    assert total.count == 2
    assert total.quantile(0.0) == pytest.approx(100.0, rel=0.01)
    assert total.quantile(1.0) == pytest.approx(200.0, rel=0.01)
    assert total.sum == pytest.approx(300.0)
    with pytest.raises(SketchError, match="not contained"):
        total.subtract(first)


def difference_of_running_totals() -> Sketch:
    """(1, 2, 3, 100, 200) minus (1, 2, 3): 100 and 200, extremes no longer known."""
    early, total = Sketch(), Sketch()
    for value in (1.0, 2.0, 3.0):
        early.add(value)
        total.add(value)
    for value in (100.0, 200.0):
        total.add(value)
    total.subtract(early)
    return total


@pytest.mark.parametrize("receiver", ["empty", "exact", "unknown"])
@pytest.mark.parametrize("order", ["unknown merged in", "merged into the unknown"])
def test_unknown_extremes_stay_unknown_through_merges(receiver: str, order: str) -> None:
    other = Sketch()
    if receiver == "exact":
        other.add(150.0)
    elif receiver == "unknown":
        other = difference_of_running_totals()
    unknown = difference_of_running_totals()
    merged = Sketch.from_bytes(
        unknown.to_bytes() if order == "merged into the unknown" else other.to_bytes()
    )
    merged.merge(other if order == "merged into the unknown" else unknown)
    assert (merged.min, merged.max) == (None, None)
    # Not clamped to an extreme it does not know: the largest value is answered from its bucket.
    assert merged.quantile(1.0) == pytest.approx(200.0, rel=0.01)
    assert merged.quantile(0.0) == pytest.approx(100.0, rel=0.01)


def test_merging_an_empty_sketch_keeps_known_extremes() -> None:
    known = Sketch()
    for value in (5.0, 7.0):
        known.add(value)
    known.merge(Sketch())
    empty = Sketch()
    empty.merge(known)
    assert (known.min, known.max) == (empty.min, empty.max) == (5.0, 7.0)
    unknown = difference_of_running_totals()
    unknown.merge(Sketch())
    assert unknown.min is None and unknown.count == 2


def test_small_samples_use_the_nearest_rank() -> None:
    sketch = Sketch()
    for value in (10.0, 20.0, 40.0):
        sketch.add(value)
    got = [sketch.quantile(q) for q in (0.0, 0.33, 0.34, 0.5, 0.95, 1.0)]
    assert got == [10.0, pytest.approx(10.0, rel=0.01), pytest.approx(20.0, rel=0.01),
                   pytest.approx(20.0, rel=0.01), 40.0, 40.0]  # fmt: skip


def test_rank_counts_values_at_or_below() -> None:
    sketch = Sketch()
    for value in (0.0, 10.0, 20.0, 500.0, 2000.0):
        sketch.add(value)
    assert [sketch.rank(v) for v in (-1.0, 0.0, 10.0, 480.0, 500.0, 1e9)] == [0, 1, 2, 3, 4, 5]


def test_an_empty_sketch_has_no_quantiles_and_round_trips() -> None:
    empty = Sketch()
    assert (empty.count, empty.quantile(0.5), empty.min, empty.max) == (0, None, None, None)
    back = Sketch.from_bytes(empty.to_bytes())
    assert (back.count, back.quantile(0.99)) == (0, None)
    assert len(empty.to_bytes()) == 5


def test_serialisation_is_compact_and_exact() -> None:
    sketch = Sketch()
    for value in (0.0, 1.5, 1.5, 3.0, 1e6):
        sketch.add(value)
    back = Sketch.from_bytes(sketch.to_bytes())
    assert (back.count, back.sum, back.min, back.max) == (5, sketch.sum, 0.0, 1e6)
    assert [back.quantile(q) for q in QUANTILES] == [sketch.quantile(q) for q in QUANTILES]
    custom = Sketch(0.05)
    custom.add(7.0)
    assert Sketch.from_bytes(custom.to_bytes()).relative_accuracy == 0.05
    small = Sketch()
    for _ in range(30):
        small.add(12.0)
    assert len(small.to_bytes()) == 2 + 1 + 24 + 2 + 1 + 1  # one bucket, one byte of count


@pytest.mark.parametrize("count", [255, 256, 65_536, 2**32])
def test_bucket_counts_widen_as_needed(count: int) -> None:
    sketch = Sketch()
    sketch.add(5.0)
    big = Sketch.from_bytes(sketch.to_bytes())
    big._counts = [count]  # counts this large would take minutes to add
    big._count = count
    assert Sketch.from_bytes(big.to_bytes()).count == count


@pytest.mark.parametrize("value", [-1.0, math.nan, math.inf])
def test_values_it_cannot_hold_are_refused(value: float) -> None:
    with pytest.raises(SketchError):
        Sketch().add(value)


@pytest.mark.parametrize("data", [b"", b"\x02\x00", b"\x01\x00\x00\x00\x05", b"\x01\x08\x00"])
def test_bytes_that_are_not_a_sketch_are_refused(data: bytes) -> None:
    with pytest.raises(SketchError):
        Sketch.from_bytes(data)


def test_sketches_of_different_accuracy_do_not_mix() -> None:
    with pytest.raises(SketchError, match="relative accuracy"):
        Sketch(0.01).merge(Sketch(0.02))
    with pytest.raises(SketchError):
        Sketch(1.5)
    with pytest.raises(SketchError):
        Sketch().quantile(1.5)
