"""Log severity: one ordered vocabulary for every source that sends logs here.

Clients speak many dialects: names and abbreviations (`warn`, `err`, `crit`, `Information`),
syslog numbers (RFC 5424: 0 emergency ... 7 debug), OpenTelemetry `SeverityNumber` (1-24, in
blocks of four: TRACE, DEBUG, INFO, WARN, ERROR, FATAL) and OpenTelemetry short names with a
block suffix (`WARN2`, `SEVERITY_NUMBER_ERROR3`). Everything becomes a `Level`.

Bare numbers are ambiguous (syslog 3 is *error*, OTLP 3 is *trace*), so the caller names the
scheme: `numeric="syslog"` (the default, what hand-written JSON means) or `numeric="otlp"`
(what an OTLP receiver passes for `severityNumber`).

Stdlib only, so the logs Worker's pure core and its tests run inside Pyodide without pydantic.
Every rejection is a `ValueError` - also for values of the wrong type - because pydantic only
turns `ValueError` (not `TypeError`) raised in a validator into a validation error.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

__all__ = [
    "Level",
    "NumericScheme",
    "level_from_otlp",
    "level_from_syslog",
    "normalise_level",
    "otlp_severity_number",
    "syslog_severity",
]

NumericScheme = Literal["syslog", "otlp"]


class Level(StrEnum):
    """Normalised log level, least to most severe; compares by severity, not alphabetically."""

    TRACE = "trace"
    DEBUG = "debug"
    INFO = "info"
    NOTICE = "notice"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"
    FATAL = "fatal"

    @property
    def rank(self) -> int:
        """0 for trace up to 7 for fatal: what `level=error` ("error and worse") filters on."""
        return _RANK[self]

    # A StrEnum would otherwise compare as text ("error" < "warning"), which is never what a
    # caller filtering by severity means.
    def __lt__(self, other: object) -> bool:
        return self.rank < other.rank if isinstance(other, Level) else NotImplemented

    def __le__(self, other: object) -> bool:
        return self.rank <= other.rank if isinstance(other, Level) else NotImplemented

    def __gt__(self, other: object) -> bool:
        return self.rank > other.rank if isinstance(other, Level) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return self.rank >= other.rank if isinstance(other, Level) else NotImplemented


_RANK = {level: rank for rank, level in enumerate(Level)}

_ALIASES: dict[str, Level] = {
    **{level.value: level for level in Level},
    # Three-letter forms are what Serilog, zerolog and friends print.
    "trc": Level.TRACE,
    "vrb": Level.TRACE,
    "verbose": Level.TRACE,
    "dbg": Level.DEBUG,
    "inf": Level.INFO,
    "information": Level.INFO,
    "informational": Level.INFO,
    "warn": Level.WARNING,
    "wrn": Level.WARNING,
    "err": Level.ERROR,
    "crit": Level.CRITICAL,
    "crt": Level.CRITICAL,
    # Syslog's two levels above critical have no own rank here; both mean "page someone now".
    "alert": Level.FATAL,
    "emerg": Level.FATAL,
    "emergency": Level.FATAL,
    "panic": Level.FATAL,
    "ftl": Level.FATAL,
}

# RFC 5424 severities, index = syslog number.
_SYSLOG = (
    Level.FATAL,  # 0 emergency
    Level.FATAL,  # 1 alert
    Level.CRITICAL,  # 2 critical
    Level.ERROR,  # 3 error
    Level.WARNING,  # 4 warning
    Level.NOTICE,  # 5 notice
    Level.INFO,  # 6 informational
    Level.DEBUG,  # 7 debug
)
_TO_SYSLOG = {level: number for number, level in reversed(list(enumerate(_SYSLOG)))}
_TO_SYSLOG[Level.TRACE] = 7

# OTLP SeverityNumber blocks of four: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN,
# 17-20 ERROR, 21-24 FATAL (opentelemetry-proto logs.proto).
_OTLP_BLOCKS = (Level.TRACE, Level.DEBUG, Level.INFO, Level.WARNING, Level.ERROR, Level.FATAL)
_OTLP_SHORT = {"trace": 1, "debug": 5, "info": 9, "warn": 13, "error": 17, "fatal": 21}
# Notice and critical sit inside a block, as OpenTelemetry's own syslog mappings place them.
_TO_OTLP = {
    Level.TRACE: 1,
    Level.DEBUG: 5,
    Level.INFO: 9,
    Level.NOTICE: 10,
    Level.WARNING: 13,
    Level.ERROR: 17,
    Level.CRITICAL: 18,
    Level.FATAL: 21,
}
_OTLP_NAME = re.compile(r"(?:severity_number_)?(trace|debug|info|warn|error|fatal)([1-4]?)")
_DIGITS = re.compile(r"[0-9]{1,3}")
_MAX_TEXT = 64

ACCEPTED = (
    "a level name (trace, debug, info, notice, warning, error, critical, fatal), an "
    "abbreviation (warn, err, crit, ...), an OpenTelemetry name (WARN2), or a number"
)


def level_from_syslog(number: int) -> Level:
    """Level of an RFC 5424 syslog severity 0 (emergency) ... 7 (debug)."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise ValueError(f"syslog severity must be an integer 0-7, got {type(number).__name__}")
    if not 0 <= number <= 7:
        raise ValueError(f"syslog severity must be 0-7, got {number}")
    return _SYSLOG[number]


def level_from_otlp(number: int) -> Level:
    """Level of an OTLP `SeverityNumber` 1-24; 0 (UNSPECIFIED) is rejected, callers default it."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise ValueError(
            f"OTLP severityNumber must be an integer 1-24, got {type(number).__name__}"
        )
    if not 1 <= number <= 24:
        raise ValueError(f"OTLP severityNumber must be 1-24, got {number}")
    return _OTLP_BLOCKS[(number - 1) // 4]


def syslog_severity(level: Level) -> int:
    """The syslog number of a level (trace shares debug's 7: syslog has nothing finer)."""
    return _TO_SYSLOG[level]


def otlp_severity_number(level: Level) -> int:
    """The OTLP `SeverityNumber` to emit for a level; maps back to the same block."""
    return _TO_OTLP[level]


def _from_number(number: int, numeric: NumericScheme) -> Level:
    return level_from_otlp(number) if numeric == "otlp" else level_from_syslog(number)


def _from_text(value: str, numeric: NumericScheme) -> Level:
    text = value.strip().lower()
    if not text or len(text) > _MAX_TEXT:
        raise ValueError(f"unknown log level; expected {ACCEPTED}")
    if text in _ALIASES:
        return _ALIASES[text]
    if _DIGITS.fullmatch(text):
        return _from_number(int(text), numeric)
    otlp = _OTLP_NAME.fullmatch(text)
    if otlp:
        return level_from_otlp(_OTLP_SHORT[otlp.group(1)] + int(otlp.group(2) or 1) - 1)
    raise ValueError(f"unknown log level {value.strip()[:32]!r}; expected {ACCEPTED}")


def normalise_level(value: object, *, numeric: NumericScheme = "syslog") -> Level:
    """The `Level` a client meant by `value` (a name, alias, or number in scheme `numeric`).

    >>> normalise_level("WARN"), normalise_level(3), normalise_level(17, numeric="otlp")
    (<Level.WARNING: 'warning'>, <Level.ERROR: 'error'>, <Level.ERROR: 'error'>)
    """
    if isinstance(value, Level):
        return value
    if isinstance(value, str):
        return _from_text(value, numeric)
    if isinstance(value, int) and not isinstance(value, bool):
        return _from_number(value, numeric)
    if isinstance(value, float) and value.is_integer():
        return _from_number(int(value), numeric)
    raise ValueError(f"log level must be a string or an integer, got {type(value).__name__}")
