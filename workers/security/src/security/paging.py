"""Opaque keyset cursors, and merging pages that came from many shards."""

from __future__ import annotations

import base64
import heapq
import json
from typing import Any

from obs_schema.errors import BadRequest
from obs_schema.timespec import format_rfc3339


def encode(time_ms: int, ident: str) -> str:
    raw = json.dumps([time_ms, ident], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None) -> list[Any] | None:
    """`[time_ms, id]` (a list: RPC refuses tuples), or None for the first page."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        time_ms, ident = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return [int(time_ms), str(ident)]
    except (ValueError, TypeError):
        raise BadRequest("cursor is not one this API returned") from None


def merge(
    pages: list[list[dict[str, Any]]], time_key: str, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The newest `limit` rows across shard pages (each sorted newest first), and the cursor."""
    ordered = heapq.merge(*pages, key=lambda r: (r[time_key], r["id"]), reverse=True)
    rows = [row for _, row in zip(range(limit), ordered, strict=False)]
    more = sum(len(p) for p in pages) > len(rows)
    cursor = encode(rows[-1][time_key], rows[-1]["id"]) if rows and more else None
    return rows, cursor


def rfc3339_ms(ms: int | None) -> str | None:
    return None if ms is None else format_rfc3339(ms / 1000)
