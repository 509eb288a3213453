"""Chunk encoding: lossless for every value, small for the values monitoring produces."""

from __future__ import annotations

import math
import random

import pytest

from infra import codec

CASES = {
    "empty": [],
    "all empty slots": [None] * 60,
    "steady counter": [12.0] * 60,
    "ramp": [float(i * 7) for i in range(60)],
    "millisecond latencies": [round(0.001 * (i % 7) + 0.012, 3) for i in range(60)],
    "sparse": [None, 0.25, None, None, 4.0, *([None] * 55)],
    "negative and decimals": [-5.0, 3.5, None, 7.123456789, 0.0],
    "arbitrary doubles": [random.Random(1).random() for _ in range(60)],
    "extremes": [1e300, -2.5e-300, 0.0, -0.0, math.inf, -math.inf],
    "beyond 2**53": [2.0**60, 2.0**60 + 2**10],
}


@pytest.mark.parametrize("values", CASES.values(), ids=CASES.keys())
def test_every_value_round_trips_exactly(values: list[float | None]) -> None:
    decoded = codec.decode(codec.encode(values))
    assert [math.copysign(1, v) if v == 0 else v for v in decoded if v is not None] == [
        math.copysign(1, v) if v == 0 else v for v in values if v is not None
    ]
    assert [v is None for v in decoded] == [v is None for v in values]


@pytest.mark.parametrize(
    ("name", "most_bytes"),
    [("steady counter", 12), ("ramp", 12), ("millisecond latencies", 70), ("sparse", 16)],
)
def test_regular_series_cost_about_a_byte_a_sample(name: str, most_bytes: int) -> None:
    assert len(codec.encode(CASES[name])) <= most_bytes


def test_integer_series_use_delta_of_delta_when_it_is_shorter() -> None:
    ramp = codec.encode(CASES["ramp"])
    assert ramp[1] & 0x03 == codec.MODE_DOD
    noisy = codec.encode([float(v) for v in (5, 9, 2, 8, 1, 7, 3)])
    assert noisy[1] & 0x03 == codec.MODE_DELTA


def test_values_without_a_short_decimal_form_fall_back_to_xor() -> None:
    assert codec.encode([0.1 + 0.2, 1 / 3])[1] & 0x03 == codec.MODE_XOR


@pytest.mark.parametrize(
    "blob", [b"", b"\x05", b"\x03\x04\x00\x02", b"\x02\x06\x80\x01", b"\x01\x07\x00"]
)
def test_damaged_chunks_raise_codec_errors(blob: bytes) -> None:
    with pytest.raises(codec.CodecError):
        codec.decode(blob)


def test_more_slots_than_a_chunk_holds_are_refused() -> None:
    with pytest.raises(ValueError, match="at most 255"):
        codec.encode([1.0] * 256)
