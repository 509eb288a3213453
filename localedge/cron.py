"""Cron triggers: when each expression next fires (UTC, as on Cloudflare)."""

from __future__ import annotations

from datetime import UTC, datetime

from croniter import croniter

from localedge.errors import ConfigError


def next_fire(expression: str, after: float) -> float:
    """The first instant strictly after `after` (epoch seconds) that `expression` matches."""
    try:
        schedule = croniter(expression, datetime.fromtimestamp(after, UTC))
    except (ValueError, KeyError) as error:
        raise ConfigError(f"invalid cron expression {expression!r}: {error}") from error
    fire: float = schedule.get_next(float)
    return fire


def validate(expression: str) -> None:
    next_fire(expression, 0.0)
