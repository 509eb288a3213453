"""Field types every model shares: the base model, trace ids, names, labels, text and URLs.

(Instants live in `instant`, bounded JSON in `jsonobject`.) Limits live in these modules, in
one place, so a client gets the same answer from every Worker: a record too big to store is a
validation error naming the field, never a memory blow-up downstream or a storage error (a 500)
later. Validators raise only `ValueError` - the one exception (with `AssertionError`) pydantic 2
turns into a validation error; a `TypeError` would escape as a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

MAX_LABELS = 64
MAX_LABEL_KEY_CHARS = 128
MAX_LABEL_VALUE_CHARS = 1024
MAX_NAME_CHARS = 256

# Printable: no C0 control characters and no DEL (they break log lines, headers and UIs).
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


class ObsModel(BaseModel):
    """Base of every shared model.

    Unknown fields are ignored rather than rejected: the six Workers deploy one at a time, so a
    newer sender must not break an older receiver (the OTLP rule "receivers MUST ignore unknown
    fields", applied to our own contracts). Fields with wire aliases accept either spelling.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# --- trace context ids ------------------------------------------------------------------


def _nonzero_lower(what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value.strip("0") == "":
            raise ValueError(f"an all-zero {what} is invalid (W3C Trace Context)")
        return value.lower()  # OTLP ids are case-insensitive; stored canonically lower-case

    return check


def _blank_to_none(value: object) -> object:
    # OTLP JSON encodes "no id" as an empty string; treat it like an absent field.
    return None if value == "" else value


TraceId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-fA-F]{32}$"),
    AfterValidator(_nonzero_lower("trace id")),
]
"""16-byte trace id as 32 hex digits (any case in, lower-case out)."""

SpanId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-fA-F]{16}$"),
    AfterValidator(_nonzero_lower("span id")),
]
"""8-byte span id as 16 hex digits (any case in, lower-case out)."""

OptionalTraceId = Annotated[TraceId | None, BeforeValidator(_blank_to_none)]
OptionalSpanId = Annotated[SpanId | None, BeforeValidator(_blank_to_none)]


# --- names, labels and text -------------------------------------------------------------


def utf8_size(text: str, where: str) -> int:
    """Bytes of `text` in UTF-8; `ValueError` naming `where` if it is not valid Unicode."""
    # An unpaired surrogate (JSON "\ud800") survives json.loads but no UTF-8 store takes it.
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError(f"{where} contains an unpaired surrogate (invalid Unicode)") from None


def max_utf8_bytes(limit: int) -> Callable[[str], str]:
    """A validator capping text at `limit` UTF-8 bytes and refusing unpaired surrogates."""

    def check(value: str) -> str:
        size = utf8_size(value, "text")
        if size > limit:
            raise ValueError(f"text is {size} bytes in UTF-8; the limit is {limit}")
        return value

    return check


Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS, pattern=PRINTABLE
    ),
]
"""A short printable identifier-like string (service, route, source), 1-256 characters."""

LabelKey = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_LABEL_KEY_CHARS, pattern=PRINTABLE)
]
LabelValue = Annotated[
    str,
    StringConstraints(max_length=MAX_LABEL_VALUE_CHARS),
    AfterValidator(max_utf8_bytes(4 * MAX_LABEL_VALUE_CHARS)),  # i.e. valid Unicode only
]
Labels = Annotated[dict[LabelKey, LabelValue], Field(max_length=MAX_LABELS)]
"""String-to-string labels: at most 64, keys 1-128 printable chars, values up to 1024 chars."""


# --- links ------------------------------------------------------------------------------

MAX_URL_CHARS = 2048


def _check_web_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        raise ValueError("the URL is malformed") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an absolute http:// or https:// URL")
    return value


WebUrl = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_URL_CHARS, pattern=r"^[^\x00-\x20\x7f]+$"),
    AfterValidator(_check_web_url),
    WithJsonSchema({"type": "string", "format": "uri", "maxLength": MAX_URL_CHARS}),
]
"""An absolute http(s) URL without whitespace, at most 2048 characters."""
