"""Exceptions as data: the chain and stack frames of an exception, in Sentry's shape.

Only code locations and source lines leave here - never `frame.f_locals`, so no local variable
(a token, a request body) can end up in an error report. Stdlib only; reads source lines through
`linecache` (reading, not writing, is fine on Python Workers).
"""

from __future__ import annotations

import linecache
import os
import traceback
from types import FrameType, TracebackType
from typing import Any

__all__ = ["clip", "exception_values"]

MAX_VALUE_CHARS = 1024
MAX_CONTEXT_LINE_CHARS = 512
MAX_FRAMES = 100  # the newest ones: where the error was raised matters most
MAX_CHAINED = 5
_LIBRARY_DIRS = ("/site-packages/", "/dist-packages/", "/python_modules/")  # last: pywrangler
_STDLIB_DIR = os.path.dirname(os.__file__) + os.sep


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, marked with `...` when cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _message(exc: BaseException) -> str:
    try:
        return clip(str(exc), MAX_VALUE_CHARS)
    except Exception:  # a broken __str__ must not stop the report
        return "<exception str() failed>"


def _in_app(abs_path: str) -> bool:
    if abs_path.startswith("<"):  # <frozen ...>, <string>
        return False
    normalised = abs_path.replace(os.sep, "/")
    return not abs_path.startswith(_STDLIB_DIR) and not any(
        part in normalised for part in _LIBRARY_DIRS
    )


def _filename(abs_path: str, module: str | None) -> str:
    # The path from the top-level package down, e.g. obs_schema/sentry.py, like sentry-python.
    if not module or abs_path.startswith("<"):
        return abs_path
    parts = abs_path.replace(os.sep, "/").split("/")
    depth = module.count(".") + 1 + (parts[-1] == "__init__.py")
    return "/".join(parts[-depth:])


def _context_line(frame: FrameType, abs_path: str, lineno: int) -> str | None:
    try:  # source lines only; never frame.f_locals
        line = linecache.getline(abs_path, lineno, frame.f_globals)
    except Exception:
        return None
    return clip(line.rstrip("\r\n"), MAX_CONTEXT_LINE_CHARS) if line else None


def _frame(frame: FrameType, lineno: int | None) -> dict[str, Any]:
    code = frame.f_code
    name = frame.f_globals.get("__name__")
    module = name if isinstance(name, str) else None
    out: dict[str, Any] = {
        "filename": _filename(code.co_filename, module),
        "abs_path": code.co_filename,
        "function": code.co_qualname,
        "module": module,
        "in_app": _in_app(code.co_filename),
    }
    if lineno is not None:
        out["lineno"] = lineno
        out["context_line"] = _context_line(frame, code.co_filename, lineno)
    return {key: value for key, value in out.items() if value is not None}


def _frames(tb: TracebackType | None) -> list[dict[str, Any]]:
    walked = list(traceback.walk_tb(tb))[-MAX_FRAMES:]  # oldest first, as Sentry wants
    return [_frame(frame, lineno) for frame, lineno in walked]


def _chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: set[int] = set()  # by identity: a cycle of contexts must end, whatever __eq__ does
    current: BaseException | None = exc
    while current is not None and len(chain) < MAX_CHAINED and id(current) not in seen:
        chain.append(current)
        seen.add(id(current))
        context = None if current.__suppress_context__ else current.__context__
        current = current.__cause__ or context
    return chain[::-1]  # the root cause first and the raised exception last, as Sentry orders


def _exception(exc: BaseException) -> dict[str, Any]:
    kind = type(exc)
    value: dict[str, Any] = {"type": kind.__name__, "value": _message(exc)}
    if kind.__module__ not in ("builtins", "__builtin__"):
        value["module"] = kind.__module__
    frames = _frames(exc.__traceback__)
    if frames:
        value["stacktrace"] = {"frames": frames}
    return value


def exception_values(exc: BaseException) -> list[dict[str, Any]]:
    """Sentry `exception.values` for `exc`: root cause first, `exc` itself last."""
    return [_exception(item) for item in _chain(exc)]
