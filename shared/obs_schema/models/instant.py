"""Instants in models: RFC 3339 or epoch numbers in, timezone-aware UTC inside, RFC 3339 out.

Record timestamps (unlike query parameters, see `obs_schema.timespec`) are absolute: no `15m`
or `now`, and a date alone is not enough. Validators raise only `ValueError`, which pydantic
reports as a validation error.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

__all__ = ["TIME_FORMS", "UtcDatetime", "format_time", "parse_time"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Below 1e11 a number is epoch seconds, above it epoch milliseconds: 1e11 s is the year 5138
# and 1e11 ms is March 1973, so no time this stack stores is ambiguous (as obs_schema.timespec).
_SECONDS_CUTOFF = 1e11
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
_EPOCH_TEXT = re.compile(r"-?[0-9]{1,16}(?:\.[0-9]{1,9})?")
TIME_FORMS = "RFC 3339 (2026-11-27T10:00:00Z) or epoch milliseconds (1795773600000)"


def _from_epoch(number: float) -> datetime:
    if not math.isfinite(number):
        raise ValueError(f"time must be a finite number; expected {TIME_FORMS}")
    millis = number * 1000 if abs(number) < _SECONDS_CUTOFF else number
    try:
        return _EPOCH + timedelta(milliseconds=millis)
    except OverflowError:
        raise ValueError(f"time {number!r} is out of range") from None


def _offset(text: str | None) -> timezone:
    if text is None or text in "Zz":
        return UTC  # RFC 3339 requires an offset; a naive time is read as UTC, never local.
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 23 or minutes > 59:
        raise ValueError(f"time offset {text!r} is out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _from_rfc3339(text: str) -> datetime:
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"time {text[:40]!r} is not understood; expected {TIME_FORMS}")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    micros = int((match.group(7) or "0")[:6].ljust(6, "0"))  # nanoseconds truncated
    leap = 1 if second == 60 else 0  # a leap second reads as the next second (datetime can't)
    try:
        moment = datetime(year, month, day, hour, minute, second - leap, micros)
        moment = moment.replace(tzinfo=_offset(match.group(8))) + timedelta(seconds=leap)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"time {text[:40]!r} is invalid: {exc}") from None


def parse_time(value: object) -> datetime:
    """A UTC datetime from RFC 3339 text, epoch ms (or s) as a number or digits, or a datetime."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch(float(value))
    if isinstance(value, str):
        text = value.strip()
        if _EPOCH_TEXT.fullmatch(text):
            return _from_epoch(float(text))
        return _from_rfc3339(text)
    raise ValueError(f"time must be a string or a number; expected {TIME_FORMS}")


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with milliseconds, the one format every Worker answers with."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


UtcDatetime = Annotated[
    datetime,
    BeforeValidator(parse_time),
    PlainSerializer(format_time, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "format": "date-time"}, {"type": "number"}],
            "description": f"A time: {TIME_FORMS}. Answered as RFC 3339 UTC.",
        },
        mode="validation",
    ),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
"""An instant, always timezone-aware UTC once validated."""
