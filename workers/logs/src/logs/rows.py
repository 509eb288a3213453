"""Stored rows: the column order shared by the Worker (which builds rows) and the shard (which
stores them), and the JSON records the API answers with.

Rows cross the RPC boundary to a shard as one JSON array per chunk (a shard inserts a chunk
with one `INSERT ... SELECT FROM json_each(?)`), so the column order is part of the protocol.
"""

from __future__ import annotations

import json
import operator
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from logs import jsontext
from logs.fingerprint import fingerprints
from logs.intake import Entry
from obs_schema.scrubbing import Scrubber
from obs_schema.severity import Level
from obs_schema.timespec import format_rfc3339

# What the Worker sends: one list per record, in this order.
TS, RECEIVED, LEVEL, SERVICE, TRACE, SPAN, FINGERPRINT, MESSAGE, ATTRIBUTES, SOURCE, EDGE = range(
    11
)
# What a shard answers: its row id first, then the same columns.
STORED = (
    "id",
    "ts",
    "received",
    "level",
    "service",
    "trace_id",
    "span_id",
    "fingerprint",
    "message",
    "attributes",
    "source",
    "edge",
)
LEVEL_NAMES = [level.value for level in Level]
MAX_CHUNK_BYTES = 1_500_000  # a bound SQL string may be 2 MB on Cloudflare: stay under it


def build(
    entries: Sequence[Entry], scrubber: Scrubber, received_ms: int, source: str, edge: str
) -> list[list[Any]]:
    """The rows of a batch's accepted entries, their messages scrubbed here (attributes were
    scrubbed by `intake.normalise`): nothing personal leaves this function. Fingerprints are
    taken over the whole batch at once (`fingerprints`)."""
    scrub = scrubber.scrub_text
    messages = [scrub(entry.message) for entry in entries]
    return [
        [
            entry.ts,
            received_ms,
            entry.level,
            entry.service,
            entry.trace_id,
            entry.span_id,
            print_,
            message,
            entry.stored_attributes,
            source,
            edge,
        ]
        for entry, message, print_ in zip(entries, messages, fingerprints(messages), strict=True)
    ]


def shard_batch(rows: Sequence[list[Any]]) -> dict[str, Any]:
    """What one shard's `insert` RPC takes: the rows in chunks, their per-minute counts
    (counted here, so the shard does not parse every row twice; as one JSON text, which an
    RPC copies in one step where a list of lists is copied value by value) and the oldest
    timestamp."""
    minutes = [ts // 60000 for ts in map(_ts, rows)]
    counts = Counter(zip(minutes, map(_level, rows), map(_service, rows), strict=True))
    return {
        "chunks": chunks(rows),
        "stats": jsontext.rows_text([[*key, count] for key, count in counts.items()]),
        "first_ms": min(map(_ts, rows)),
    }


def chunks(rows: Sequence[list[Any]]) -> list[dict[str, Any]]:
    """The rows as chunks of at most `MAX_CHUNK_BYTES` of JSON each. What a whole batch
    shares (received, source, edge) is said once per chunk, not once per row: a row is
    `CHUNK_FIELDS`, which is also less for the shard to parse."""
    out: list[dict[str, Any]] = []
    for (received, source, edge), members in _by_shared(rows).items():
        for part in _split(members):
            text = jsontext.rows_text(list(map(_chunk_row, part)))
            out.append({"rows": text, "received": received, "source": source, "edge": edge})
    return out


# A chunk row: TS, LEVEL, SERVICE, TRACE, SPAN, FINGERPRINT, MESSAGE, ATTRIBUTES.
_chunk_row = operator.itemgetter(TS, LEVEL, SERVICE, TRACE, SPAN, FINGERPRINT, MESSAGE, ATTRIBUTES)
_shared = operator.itemgetter(RECEIVED, SOURCE, EDGE)
_ts, _level, _service = (operator.itemgetter(column) for column in (TS, LEVEL, SERVICE))
_message, _attributes = operator.itemgetter(MESSAGE), operator.itemgetter(ATTRIBUTES)


def _by_shared(rows: Sequence[list[Any]]) -> Mapping[tuple[int, str, str], Sequence[list[Any]]]:
    if rows and all(map(_shared(rows[0]).__eq__, map(_shared, rows))):
        return {_shared(rows[0]): rows}  # one batch's rows: the usual case
    groups: dict[tuple[int, str, str], list[list[Any]]] = {}
    for row in rows:
        groups.setdefault(_shared(row), []).append(row)
    return groups


def _split(rows: Sequence[list[Any]]) -> list[Sequence[list[Any]]]:
    # A row's share of a chunk: its text at worst 2 bytes a character, and 200 for the rest.
    texts = sum(map(len, map(_message, rows))) + sum(map(len, filter(None, map(_attributes, rows))))
    if 2 + texts * 2 + 200 * len(rows) <= MAX_CHUNK_BYTES:
        return [rows] if rows else []  # all in one chunk (what the loop below would find)
    parts: list[Sequence[list[Any]]] = []
    start, size = 0, 2
    for index, row in enumerate(rows):
        row_size = len(row[MESSAGE]) * 2 + len(row[ATTRIBUTES] or "") * 2 + 200
        if size + row_size > MAX_CHUNK_BYTES and index > start:
            parts.append(rows[start:index])
            start, size = index, 2
        size += row_size
    if start < len(rows):
        parts.append(rows[start:])
    return parts


def record_id(row_id: int, slot: int) -> str:
    """Global id of a stored record: row id (time-ordered) and slot, as 18 hex digits."""
    return f"{row_id:016x}{slot:02x}"


def parse_record_id(text: str) -> tuple[int, int]:
    if len(text) != 18:
        raise ValueError("a record id has 18 hex digits")
    return int(text[:16], 16), int(text[16:], 16)


def to_json(stored: Sequence[Any], slot: int) -> dict[str, Any]:
    """A stored row as the API answers it."""
    row = dict(zip(STORED, stored, strict=True))
    attributes = row["attributes"]
    return {
        "id": record_id(row["id"], slot),
        "timestamp": format_rfc3339(row["ts"] / 1000),
        "received": format_rfc3339(row["received"] / 1000),
        "level": LEVEL_NAMES[row["level"]],
        "service": row["service"],
        "message": row["message"],
        "trace_id": row["trace_id"],
        "span_id": row["span_id"],
        "attributes": json.loads(attributes) if attributes else {},
        "fingerprint": row["fingerprint"],
        "source": row["source"],
        "edge": row["edge"],
    }
