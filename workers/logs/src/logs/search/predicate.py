"""A search request as a predicate over API records (archived lines), mirroring the SQL.

Same semantics as `logs.store.searchsql`: row-id window, minimum level, services, trace id,
attribute filters (literal key or dotted path, compared as SQLite's CAST AS TEXT would) and
the full-text tree over the message.
"""

from __future__ import annotations

import json
from typing import Any

from logs.rows import LEVEL_NAMES, parse_record_id
from logs.search.matcher import Matcher
from logs.search.request import SearchRequest
from logs.store.schema import ID_SCALE

_RANK = {name: rank for rank, name in enumerate(LEVEL_NAMES)}


class Predicate:
    def __init__(self, request: SearchRequest) -> None:
        self.request = request
        self.lo = request.start_ms * ID_SCALE
        self.hi = (request.end_ms + 1) * ID_SCALE
        self.services = set(request.services)
        self.matcher = Matcher(request.tree) if request.tree is not None else None

    def __call__(self, record: dict[str, Any]) -> bool:
        request = self.request
        row_id, _ = parse_record_id(record["id"])
        if not self.lo <= row_id < self.hi:
            return False
        if request.before is not None and record["id"] >= request.before:
            return False
        if _RANK.get(record["level"], 0) < request.min_level:
            return False
        if self.services and record["service"] not in self.services:
            return False
        if request.trace_id and record.get("trace_id") != request.trace_id:
            return False
        attributes = record.get("attributes") or {}
        for key, values in request.attrs:
            if _as_text(_lookup(attributes, key)) not in values:
                return False
        return self.matcher is None or self.matcher(record["message"])


def _lookup(attributes: dict[str, Any], key: str) -> Any:
    if key in attributes:
        return attributes[key]
    value: Any = attributes
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)
