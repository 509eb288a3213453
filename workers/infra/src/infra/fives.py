"""Five-minute sums of an hour chunk, stored beside it so long charts skip the minutes.

A 7-day chart at a 5-minute step needs, for counters and histograms, the sum per 5 minutes, and
for a gauge's mean also the number of minutes with a sample. Decoding 60 minute slots per hour
to add them up again on every query is most of such a query's cost; compaction writes each
hour's 12 five-minute sums and counts once (`codec` chunks, a few bytes; the counts only when
some minute is missing), and the query reads
those instead: 2,016 sums for a week rather than 10,080 minutes.

Sums of decimal values (two decimals, microseconds...) are exact decimal sums; others add the
minutes in order, as a query over the minutes does. Either way a 5-minute step gets what the
minutes give, to the last bit or two of a double.
"""

from __future__ import annotations

from infra import codec

SLOTS = 12  # five-minute slots in an hour
WIDTH = 5


def encode(minutes: codec.Slots) -> bytes:
    """Sums and counts of the 12 five-minute slots of an hour of minute slots."""
    scale = _scale([v for v in minutes if v is not None])
    sums: codec.Slots = []
    counts: codec.Slots = []
    for slot in range(SLOTS):
        present = [v for v in minutes[slot * WIDTH : slot * WIDTH + WIDTH] if v is not None]
        if not present:
            sums.append(None)
            counts.append(None)
            continue
        if scale is None:
            total = 0.0
            for value in present:  # in order, as a query over the minutes adds them
                total += value
        else:
            total = sum(round(v * scale) for v in present) / scale
        sums.append(total)
        counts.append(float(len(present)))
    first = codec.encode(sums)
    if all(n is None or n == WIDTH for n in counts):
        return len(first).to_bytes(2, "big") + first  # every minute there: no counts stored
    return len(first).to_bytes(2, "big") + first + codec.encode(counts)


def _scale(values: list[float]) -> int | None:
    """10**d when every value has at most d decimals (d > 0): their sums are then computed
    exactly in integers and stay d-decimal numbers, which `codec` stores in a byte or two,
    where float additions (0.1 + 0.2) would leave noise in the last bits that costs eight."""
    found = codec.decimals(values)
    return None if not found else 10**found


def decode(data: bytes | bytearray | memoryview) -> tuple[codec.Slots, codec.Slots]:
    """(sums, counts) of the 12 five-minute slots; None where no minute had a sample."""
    raw = bytes(data)
    length = int.from_bytes(raw[:2], "big")
    sums = codec.decode(raw[2 : 2 + length])
    if len(raw) == 2 + length:
        return sums, [None if total is None else float(WIDTH) for total in sums]
    return sums, codec.decode(raw[2 + length :])
