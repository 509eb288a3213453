"""Time in query parameters: parse what operators type, format what the API returns.

Out, every instant is RFC 3339 UTC with milliseconds (`2026-11-27T10:00:00.123Z`). In, an
instant may be any of:

- RFC 3339 (`2026-11-27T10:00:00Z`, `...T10:00:00.5+05:30`, `t` or a space for `T`). A time
  without an offset is read as UTC, and a bare date (`2026-11-27`) as midnight UTC, because
  servers here have no local zone worth guessing. A leap second (`:60`) is read as the next
  second, since Python's datetime cannot hold it.
- An epoch number, as an int, a float or an ASCII digit string. Numbers below 1e11 are epoch
  *seconds* and larger ones epoch *milliseconds*: 1e11 s is the year 5138 and 1e11 ms is
  March 1973, so the two ranges cannot be confused for any time this stack stores.
  Negative numbers are refused: a sign in front of a time is always a typo for `now-...`.
- A duration before `now` (`15m`, `24h`, `7d`, `1h30m`), `now` itself, or `now-15m`/`now+5m`.

Surrounding whitespace is ignored. Keywords and units are lowercase only, so `15M` is refused
rather than guessed to mean months.

Durations are numbers with units `ms s m h d w`, largest unit first, each unit at most once
(Prometheus' rule, so `30m1h` is a typo rather than a silent 90 minutes). Parsing is strict
ASCII: `str.isdigit()` and `int()` also accept fullwidth and other non-ASCII digits, which
would let lookalike input through, so every pattern spells out `[0-9]`. Every rejection is a
`TimeSpecError` (a `ValueError`) whose message names the problem and the accepted forms.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone

INSTANT_FORMS = (
    "RFC 3339 (2026-11-27T10:00:00Z), a date (2026-11-27), epoch milliseconds "
    "(1795773600000), a duration before now (15m, 24h, 7d, 1h30m), now, now-15m or now+5m"
)
DURATION_FORMS = "seconds (90) or a number with units ms, s, m, h, d, w (500ms, 15m, 1h30m)"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The instants datetime can represent: anything outside could not be formatted back.
_MIN_MS = (datetime(1, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1)
_MAX_MS = (datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC) - _EPOCH) // timedelta(
    milliseconds=1
)
_MAX_DURATION = (_MAX_MS - _MIN_MS) / 1000
_SECONDS_CUTOFF = 1e11
# The longest valid input is an RFC 3339 time with nanoseconds and an offset (35 chars);
# capping length keeps errors short and int() far from its 4300-digit limit.
_MAX_LENGTH = 64

_UNITS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_RANK = {unit: rank for rank, unit in enumerate(_UNITS)}
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d|w)")
_DURATION = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d|w))+")
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?"
)


class TimeSpecError(ValueError):
    """A time or duration parameter could not be understood."""


def _fail(value: object, reason: str, forms: str = INSTANT_FORMS) -> TimeSpecError:
    shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    noun = "duration" if forms is DURATION_FORMS else "time"
    return TimeSpecError(f"invalid {noun} {shown}: {reason}; expected {forms}")


def _clean(value: str, forms: str) -> str:
    text = value.strip()
    if not text:
        raise _fail(value, "it is empty", forms)
    if len(text) > _MAX_LENGTH:
        raise _fail(value, f"it is longer than {_MAX_LENGTH} characters", forms)
    return text


def _number(value: object, forms: str) -> float:
    """A finite, non-negative int or float (bool is an int but never a time)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(value, f"a {type(value).__name__} is not a time", forms)
    try:
        number = float(value)
    except OverflowError:
        raise _fail(value, "the number is too large", forms) from None
    if not math.isfinite(number):
        raise _fail(value, "the number is not finite", forms)
    if number < 0:
        raise _fail(value, "the number is negative", forms)
    return number


def _checked_duration(seconds: float, value: object, forms: str) -> float:
    if not seconds <= _MAX_DURATION:
        raise _fail(value, "the duration is too long", forms)
    return seconds


def _duration_with_units(text: str, value: object, forms: str) -> float:
    if not _DURATION.fullmatch(text):
        raise _fail(value, "it is not a duration", forms)
    total, last_rank = 0.0, -1
    for match in _PART.finditer(text):
        rank = _RANK[match.group(2)]
        if rank <= last_rank:
            raise _fail(value, "units must go from largest to smallest, each once", forms)
        total, last_rank = total + float(match.group(1)) * _UNITS[match.group(2)], rank
    return _checked_duration(total, value, forms)


def parse_duration(value: str | int | float) -> float:
    """Seconds in `value`: `15m`, `1h30m`, `500ms`; a bare number is seconds. Zero is allowed."""
    if not isinstance(value, str):
        return _checked_duration(_number(value, DURATION_FORMS), value, DURATION_FORMS)
    text = _clean(value, DURATION_FORMS)
    if text.startswith("-"):
        raise _fail(value, "durations cannot be negative", DURATION_FORMS)
    if _NUMBER.fullmatch(text):
        return _checked_duration(float(text), value, DURATION_FORMS)
    return _duration_with_units(text, value, DURATION_FORMS)


def _checked_instant(seconds: float, value: object) -> float:
    # Written as `not (a <= x <= b)` so that NaN (from a NaN `now`) is rejected as well.
    if not _MIN_MS / 1000 <= seconds <= _MAX_MS / 1000:
        raise _fail(value, "the time is outside the years 0001 to 9999")
    return seconds


def _from_epoch(number: float, value: object) -> float:
    seconds = number if number < _SECONDS_CUTOFF else number / 1000
    return _checked_instant(seconds, value)


def _from_epoch_text(text: str, value: object) -> float:
    if "." in text:
        return _from_epoch(float(text), value)
    # int / int is correctly rounded; float(text) first could round a 17-digit value twice.
    number = int(text)
    return _checked_instant(float(number) if number < _SECONDS_CUTOFF else number / 1000, value)


def _offset(text: str | None, value: object) -> timezone:
    if text is None or text in "Zz":
        return UTC
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 23 or minutes > 59:
        raise _fail(value, "the UTC offset is out of range")
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _from_rfc3339(match: re.Match[str], value: object) -> float:
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    seconds, zone = int(second or 0), _offset(offset, value)
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0),
            min(seconds, 59), tzinfo=zone,
        )  # fmt: skip
    except ValueError:
        raise _fail(value, "that date or time does not exist") from None
    if seconds > 60:
        raise _fail(value, "seconds must be 00 to 60")
    whole = (moment - _EPOCH) // timedelta(seconds=1) + (seconds - min(seconds, 59))
    return _checked_instant(whole + float("0" + (fraction or "")), value)


def _from_text(value: str, now: float) -> float:
    text = _clean(value, INSTANT_FORMS)
    if text == "now":
        return _checked_instant(now, value)
    if text.startswith(("now-", "now+")):
        shift = _duration_with_units(text[4:], value, INSTANT_FORMS)
        return _checked_instant(now - shift if text[3] == "-" else now + shift, value)
    if text.startswith("-"):
        raise _fail(value, "write times before now without a sign (5m) or as now-5m")
    if _NUMBER.fullmatch(text):
        return _from_epoch_text(text, value)
    if _DURATION.fullmatch(text):
        return _checked_instant(now - _duration_with_units(text, value, INSTANT_FORMS), value)
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise _fail(value, "it is not a recognised time")
    return _from_rfc3339(match, value)


def parse_instant(value: str | int | float, now: float) -> float:
    """Epoch seconds of `value` (see the module docstring); relative forms count from `now`."""
    if isinstance(value, str):
        return _from_text(value, now)
    return _from_epoch(_number(value, INSTANT_FORMS), value)


def format_rfc3339(epoch_seconds: float) -> str:
    """`epoch_seconds` as RFC 3339 UTC with milliseconds: `2026-11-27T10:00:00.123Z`."""
    if not math.isfinite(epoch_seconds):
        raise _fail(epoch_seconds, "the number is not finite")
    ms = round(epoch_seconds * 1000)
    if not _MIN_MS <= ms <= _MAX_MS:
        raise _fail(epoch_seconds, "the time is outside the years 0001 to 9999")
    t = _EPOCH + timedelta(milliseconds=ms)
    # Not strftime: glibc's %Y does not zero-pad years below 1000.
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}"
        f"T{t.hour:02d}:{t.minute:02d}:{t.second:02d}.{ms % 1000:03d}Z"
    )


def parse_window(
    since: str | int | float | None,
    until: str | int | float | None,
    now: float,
    default_span: float = 3600.0,
) -> tuple[float, float]:
    """`(start, end)` epoch seconds of a query window.

    `until` defaults to `now` and `since` to `default_span` seconds before `until`. An empty
    window (`since == until`) is allowed; `since` after `until` is a `TimeSpecError`.
    """
    end = now if until is None else parse_instant(until, now)
    start = end - parse_duration(default_span) if since is None else parse_instant(since, now)
    if start > end:
        raise TimeSpecError(
            f"since ({format_rfc3339(start)}) is after until ({format_rfc3339(end)})"
        )
    return start, end
