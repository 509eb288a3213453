"""The logs Worker's knobs, read from its `[vars]` (wrangler.toml) with safe defaults.

A malformed value falls back to the default and is reported by `problems`, so a typo in a
deployment's vars never takes ingestion down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from obs_schema.timespec import TimeSpecError, parse_duration

MAX_SLOTS = 256


@dataclass(frozen=True)
class Settings:
    slots: int = 4
    bucket_ms: int = 24 * 3600_000
    hot_retention_ms: int = 7 * 86400_000
    archive_retention_ms: int = 365 * 86400_000
    error_burst: int = 100
    error_burst_window_ms: int = 5 * 60_000
    alert_dedup_ms: int = 30 * 60_000
    public_url: str = "http://127.0.0.1:8787"
    edge_location: str = "local"
    max_batch_records: int = 10_000
    future_tolerance_ms: int = 2 * 3600_000  # clocks drift; beyond this a time is a bug
    problems: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_env(cls, env: Any) -> Settings:
        problems: list[str] = []

        def read(name: str, default: str) -> str:
            value = getattr(env, name, None)
            return value if isinstance(value, str) and value.strip() else default

        def duration(name: str, default: str) -> int:
            try:
                return int(parse_duration(read(name, default)) * 1000)
            except TimeSpecError as error:
                problems.append(f"{name}: {error}")
                return int(parse_duration(default) * 1000)

        def integer(name: str, default: int, low: int, high: int) -> int:
            text = read(name, str(default))
            if text.isdigit() and low <= int(text) <= high:
                return int(text)
            problems.append(f"{name}: expected an integer {low}-{high}, got {text[:20]!r}")
            return default

        bucket_hours = integer("LOGS_BUCKET_HOURS", 24, 1, 24 * 7)
        return cls(
            slots=integer("LOGS_SHARD_SLOTS", 4, 1, MAX_SLOTS),
            bucket_ms=bucket_hours * 3600_000,
            hot_retention_ms=duration("LOGS_HOT_RETENTION", "7d"),
            archive_retention_ms=duration("LOGS_ARCHIVE_RETENTION", "365d"),
            error_burst=integer("LOGS_ERROR_BURST", 100, 1, 10**9),
            error_burst_window_ms=duration("LOGS_ERROR_BURST_WINDOW", "5m"),
            alert_dedup_ms=duration("LOGS_ALERT_DEDUP", "30m"),
            public_url=read("LOGS_PUBLIC_URL", "http://127.0.0.1:8787").rstrip("/"),
            edge_location=read("LOGS_EDGE_LOCATION", "local"),
            problems=tuple(problems),
        )


_cache: dict[int, tuple[Any, Settings]] = {}


def settings_for(env: Any) -> Settings:
    """The settings of `env`, read once per isolate (vars only change with a deploy)."""
    cached = _cache.get(id(env))
    if cached is None or cached[0] is not env:
        cached = _cache[id(env)] = (env, Settings.from_env(env))
    return cached[1]
