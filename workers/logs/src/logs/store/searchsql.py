"""A search spec (plain dict, as it crosses RPC) to one parameterised SQL statement.

User text never becomes SQL: the full-text expression, services, trace id and attribute
values are bound parameters; attribute keys become JSON paths, also bound. Spec keys:
`lo`/`hi` (row id bounds, `hi` exclusive), `match` (an FTS5 expression built by
`logs.search.fts`), `min_level`, `services`, `trace_id`, `attrs` (`[[key, [values...]], ...]`),
`limit`, `ascending`, `slot` (answer documents, see `search_sql`).
"""

from __future__ import annotations

import json
from typing import Any

from logs.store.schema import COLUMNS, trace_match
from obs_schema.severity import Level

_L_COLUMNS = ", ".join(f"l.{name.strip()}" for name in COLUMNS.split(","))
_LEVEL_NAMES = json.dumps([level.value for level in Level])


def _time(column: str) -> str:
    # RFC 3339 with milliseconds, as `obs_schema.timespec.format_rfc3339` writes it.
    return (
        f"strftime('%Y-%m-%dT%H:%M:%S', {column} / 1000, 'unixepoch')"
        f" || printf('.%03dZ', {column} % 1000)"
    )


# A record as the API answers it (`rows.to_json`), built by SQLite: the Worker then splices
# these texts into its answer instead of decoding and re-encoding every row. `?` is the slot.
DOCUMENT = (
    "json_object('id', printf('%016x%02x', l.id, ?), "
    f"'timestamp', {_time('l.ts')}, 'received', {_time('l.received')}, "
    f"'level', '{_LEVEL_NAMES}' ->> l.level, 'service', l.service, 'message', l.message, "
    "'trace_id', l.trace_id, 'span_id', l.span_id, "
    "'attributes', json(coalesce(l.attributes, '{}')), 'fingerprint', l.fingerprint, "
    "'source', l.source, 'edge', l.edge)"
)


def search_sql(spec: dict[str, Any]) -> tuple[str, list[Any]]:
    """With `slot` in the spec, rows are `(id, document)` (`DOCUMENT`); else `COLUMNS`."""
    where: list[str] = []
    params: list[Any] = []
    if spec.get("slot") is not None:
        select = f"l.id, {DOCUMENT} AS doc"
        params.append(int(spec["slot"]))
    else:
        select = _L_COLUMNS
    match = _match(spec)
    if match:
        source = "logs_fts JOIN logs AS l ON l.id = logs_fts.rowid"
        order_key = "logs_fts.rowid"
        where.append("logs_fts MATCH ?")
        params.append(match)
    else:
        source, order_key = "logs AS l", "l.id"
    where += [f"{order_key} >= ?", f"{order_key} < ?"]
    params += [int(spec["lo"]), int(spec["hi"])]
    _level(spec.get("min_level", 0), where)
    services = spec.get("services") or []
    if services:
        where.append(f"l.service IN ({', '.join('?' * len(services))})")
        params += services
    if spec.get("trace_id"):
        where.append("l.trace_id = ?")
        params.append(spec["trace_id"])
    for key, values in spec.get("attrs") or []:
        where.append(
            "CAST(coalesce(json_extract(l.attributes, ?), json_extract(l.attributes, ?)) AS TEXT)"
            f" IN ({', '.join('?' * len(values))})"
        )
        params += [json_path([key]), json_path(key.split(".")), *values]
    direction = "ASC" if spec.get("ascending") else "DESC"
    # Only constants and placeholders are spliced in; every value is bound.
    query = (
        f"SELECT {select} FROM {source} WHERE {' AND '.join(where)} "  # noqa: S608
        f"ORDER BY {order_key} {direction} LIMIT ?"
    )
    params.append(int(spec["limit"]))
    return query, params


def _match(spec: dict[str, Any]) -> str:
    """The FTS5 expression: the search's words in the message column, and the trace id."""
    parts = [f"message : ({spec['match']})"] if spec.get("match") else []
    if spec.get("trace_id"):
        parts.append(trace_match(spec["trace_id"]))
    return " AND ".join(parts)


def _level(minimum: int, where: list[str]) -> None:
    if minimum <= 0:
        return
    # A literal, not a bound parameter (it is an int from 1 to 7): SQLite matches it against
    # the partial indexes' WHERE, and a parameter compared there makes it prepare the
    # statement again at every execution (measured: most of a small query's time).
    level = max(1, min(int(minimum), 7))
    if level >= 5:
        where.append("l.level >= 5")
    elif level >= 4:
        where.append("l.level >= 4")
    where.append(f"l.level >= {level}")


def json_path(parts: list[str]) -> str:
    """`$."http"."route"`: every label quoted, so dots and brackets in keys stay literal."""
    return "$" + "".join(f'."{part}"' for part in parts)
