"""Compact encoding of one series' samples on a fixed grid of slots.

A chunk holds up to 255 slots (an hour of minutes, a day of hours); a slot is a float or empty.
Layout: `[slots][mode][bitmap?][decimals?][payload]`.

- The bitmap (one bit per slot) is left out when every slot is present, the common case for a
  busy series.
- Integer modes: when every value is a decimal with at most 9 fractional digits that survives
  `round(v * 10**d) / 10**d == v` exactly, the values become integers and are stored as
  varint tokens of their deltas (`MODE_DELTA`) or delta-of-deltas (`MODE_DOD`), whichever is
  shorter. A token's low bit says what it is: a zigzag literal, or a run of zeros (what a steady
  series or a steady slope becomes). Counters and gauges of requests, bytes or milliseconds
  cost a byte or two a sample, or a fraction of one when regular.
- Otherwise (`MODE_XOR`) each value is XORed with the previous one's IEEE-754 bits, Gorilla
  style, but byte-aligned: a header byte gives the leading and trailing zero bytes, then the
  middle bytes follow. Byte alignment keeps decoding fast in pure Python, which matters more
  here than Gorilla's last bits.

Every value round-trips exactly: this is lossless.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

MODE_DELTA, MODE_DOD, MODE_XOR = 0, 1, 2
ALL_PRESENT = 0x04
MAX_SLOTS = 255
MAX_DECIMALS = 9
_EXACT_INT = 2**53

Slots = list[float | None]


class CodecError(ValueError):
    """The bytes are not a chunk this module wrote."""


def encode(values: Sequence[float | None]) -> bytes:
    """The chunk of `values` (one entry per slot, None for an empty slot)."""
    if len(values) > MAX_SLOTS:
        raise ValueError(f"a chunk holds at most {MAX_SLOTS} slots, got {len(values)}")
    present = [float(v) for v in values if v is not None]
    out = bytearray((len(values), 0))
    if len(present) == len(values):
        out[1] |= ALL_PRESENT
    else:
        out += _bitmap(values)
    decimals = _decimals(present)
    if decimals is None:
        out[1] |= MODE_XOR
        out += _xor_payload(present)
        return bytes(out)
    scale = 10**decimals
    ints = [round(v * scale) for v in present]
    deltas = _diffs(ints)
    delta_bytes, dod_bytes = _varints(deltas), _varints(deltas[:1] + _diffs(deltas[1:]))
    mode, payload = (MODE_DOD, dod_bytes) if len(dod_bytes) < len(delta_bytes) else (0, delta_bytes)
    out[1] |= mode
    out.append(decimals)
    out += payload
    return bytes(out)


def decode(data: bytes | bytearray | memoryview) -> Slots:
    """The slots of a chunk written by `encode`."""
    raw = bytes(data)
    if len(raw) < 2:
        raise CodecError("chunk too short")
    slots, flags = raw[0], raw[1]
    pos = 2
    if flags & ALL_PRESENT:
        mask = [True] * slots
    else:
        width = (slots + 7) // 8
        mask = [bool(raw[pos + i // 8] >> (i % 8) & 1) for i in range(slots)]
        pos += width
    count = sum(mask)
    values = _values(raw, pos, flags & 0x03, count)
    it = iter(values)
    return [next(it) if bit else None for bit in mask]


def _values(raw: bytes, pos: int, mode: int, count: int) -> list[float]:
    if count == 0:
        return []
    if mode == MODE_XOR:
        return _read_xor(raw, pos, count)
    if mode not in (MODE_DELTA, MODE_DOD):
        raise CodecError(f"unknown chunk mode {mode}")
    scale = 10 ** raw[pos]
    stream = _read_varints(raw, pos + 1, count)
    if mode == MODE_DOD and count > 1:
        stream = stream[:1] + _running(stream[1:])
    return [v / scale for v in _running(stream)]


def _bitmap(values: Sequence[float | None]) -> bytes:
    bits = bytearray((len(values) + 7) // 8)
    for i, value in enumerate(values):
        if value is not None:
            bits[i // 8] |= 1 << (i % 8)
    return bytes(bits)


def decimals(values: list[float]) -> int | None:
    """Fewest fractional digits (up to 9) that make every value an exact integer, if any."""
    return _decimals(values)


def _decimals(values: list[float]) -> int | None:
    """Fewest fractional digits that make every value an exact integer, if any."""
    if not all(math.isfinite(v) for v in values):
        return None
    for decimals in range(MAX_DECIMALS + 1):
        scale = 10**decimals
        if all(abs(v * scale) < _EXACT_INT and round(v * scale) / scale == v for v in values):
            return decimals
    return None


def _diffs(numbers: list[int]) -> list[int]:
    return [b - a for a, b in zip([0, *numbers], numbers, strict=False)]


def _running(numbers: list[int]) -> list[int]:
    total, out = 0, []
    for number in numbers:
        total += number
        out.append(total)
    return out


def _varints(numbers: list[int]) -> bytes:
    out = bytearray()
    index = 0
    while index < len(numbers):
        number = numbers[index]
        run = 1
        if number == 0:
            while index + run < len(numbers) and numbers[index + run] == 0:
                run += 1
        if run > 1:
            _varint(out, run << 1 | 1)
        else:
            _varint(out, (number * 2 if number >= 0 else -number * 2 - 1) << 1)
        index += run
    return bytes(out)


def _varint(out: bytearray, token: int) -> None:
    while token >= 0x80:
        out.append((token & 0x7F) | 0x80)
        token >>= 7
    out.append(token)


def _read_varints(raw: bytes, pos: int, count: int) -> list[int]:
    out: list[int] = []
    append = out.append
    try:
        while len(out) < count:
            byte = raw[pos]
            pos += 1
            token, shift = byte & 0x7F, 7
            while byte & 0x80:
                byte = raw[pos]
                pos += 1
                token |= (byte & 0x7F) << shift
                shift += 7
            if token & 1:
                out.extend([0] * (token >> 1))
            else:
                zigzag = token >> 1
                append((zigzag >> 1) ^ -(zigzag & 1))
    except IndexError:
        raise CodecError("chunk truncated") from None
    if len(out) != count:
        raise CodecError("chunk holds more values than slots")
    return out


def _xor_payload(values: list[float]) -> bytes:
    out = bytearray()
    previous = 0
    for value in values:
        bits = struct.unpack(">Q", struct.pack(">d", value))[0]
        diff, previous = bits ^ previous, bits
        if diff == 0:
            out.append(0)
            continue
        raw = diff.to_bytes(8, "big")
        lead = min(len(raw) - len(raw.lstrip(b"\0")), 7)
        trail = min(len(raw) - len(raw.rstrip(b"\0")), 7 - lead)
        out.append(0x80 | lead << 3 | trail)
        out += raw[lead : 8 - trail]
    return bytes(out)


def _read_xor(raw: bytes, pos: int, count: int) -> list[float]:
    out: list[float] = []
    previous = 0
    try:
        for _ in range(count):
            header = raw[pos]
            pos += 1
            if header:
                lead, trail = header >> 3 & 0x07, header & 0x07
                width = 8 - lead - trail
                middle = raw[pos : pos + width]
                if len(middle) != width:
                    raise IndexError
                pos += width
                previous ^= int.from_bytes(middle, "big") << (8 * trail)
            out.append(struct.unpack(">d", previous.to_bytes(8, "big"))[0])
    except IndexError:
        raise CodecError("chunk truncated") from None
    return out
