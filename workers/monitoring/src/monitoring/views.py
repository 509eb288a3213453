"""How stored records look in API answers: RFC 3339 times, secrets redacted."""

from __future__ import annotations

from typing import Any

from obs_schema.timespec import format_rfc3339

REDACTED = "***"
_SECRET_HEADER_HINTS = ("authorization", "cookie", "token", "secret", "key", "password", "auth")


def when(ms: int | float | None) -> str | None:
    return None if ms is None else format_rfc3339(ms / 1000)


def secret_header(name: str) -> bool:
    lowered = name.lower()
    return any(hint in lowered for hint in _SECRET_HEADER_HINTS)


def redact(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec without secret header values (readers see that one is set, not what it is)."""
    headers = spec.get("headers")
    if not headers:
        return dict(spec)
    shown = {k: REDACTED if secret_header(k) else v for k, v in headers.items()}
    return {**spec, "headers": shown}


def keep_secrets(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """A PUT that sends back `***` for a secret header keeps the stored value."""
    headers, previous = new.get("headers") or {}, old.get("headers") or {}
    merged = {k: previous.get(k, v) if v == REDACTED else v for k, v in headers.items()}
    return {**new, "headers": merged} if headers else new


def state(board: dict[str, Any] | None) -> dict[str, Any]:
    board = board or {}
    return {
        "status": board.get("status", "pending"),
        "since": when(board.get("since_ms")),
        "last_checked": when(board.get("last_checked_ms")),
        "last_latency_ms": board.get("last_latency_ms"),
        "last_error": board.get("last_error"),
        "last_good": when(board.get("last_good_ms")),
        "consecutive_failures": board.get("failures", 0),
        "next_due": when(board.get("next_due_ms")),
        "in_maintenance": bool(board.get("in_maintenance")),
        "pending_alerts": board.get("pending_alerts", 0),
    }


def check(record: dict[str, Any]) -> dict[str, Any]:
    return {
        **redact(record["spec"]),
        "source": record["source"],
        "created_at": when(record["created_ms"]),
        "updated_at": when(record["updated_ms"]),
        "state": state(record.get("board")),
    }


def incident(row: dict[str, Any], names: dict[str, str], now: int) -> dict[str, Any]:
    ended = row["ended_ms"]
    return {
        "id": row["id"],
        "check_id": row["check_id"],
        "check_name": names.get(row["check_id"], row["check_id"]),
        "cause": row["cause"],
        "started_at": when(row["started_ms"]),
        "ended_at": when(ended),
        "open": ended is None,
        "duration_s": ((ended if ended is not None else now) - row["started_ms"]) / 1000,
        "first_error": row["first_error"],
    }
