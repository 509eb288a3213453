"""The shared field types - ids, labels, URLs - and that no model ever answers bad input with
anything but a validation error (a 422, never a 500)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from obs_schema.models import (
    AlertEvent,
    HealthReport,
    Labels,
    LogRecord,
    MetricPoint,
    SecurityEvent,
    Span,
    TraceId,
    WebUrl,
    WebVital,
)

labels = TypeAdapter(Labels)
urls = TypeAdapter(WebUrl)
trace_ids = TypeAdapter(TraceId)


def test_trace_ids_are_lower_cased_and_never_all_zero() -> None:
    assert trace_ids.validate_python("5B8EFFF798038103D269B633813FC60C") == (
        "5b8efff798038103d269b633813fc60c"
    )
    for bad in ["0" * 32, "5b8efff7", "g" * 32, "5b8efff798038103d269b633813fc60c0", 12]:
        with pytest.raises(ValidationError):
            trace_ids.validate_python(bad)


def test_labels_are_bounded() -> None:
    assert labels.validate_python({"service": "api", "région": "eu-ouest", "e": ""}) == {
        "service": "api",
        "région": "eu-ouest",
        "e": "",
    }
    for bad in [
        {f"k{i}": "v" for i in range(65)},
        {"": "v"},
        {"k" * 129: "v"},
        {"new\nline": "v"},
        {"k": "v" * 1025},
        {"k": 1},
        {"k": "\ud800"},
        ["k", "v"],
    ]:
        with pytest.raises(ValidationError):
            labels.validate_python(bad)


@pytest.mark.parametrize(
    "url", ["https://pitchey.example.com/p?q=1#x", "http://127.0.0.1:8787/logs", "HTTPS://X.IO"]
)
def test_web_urls_accept_absolute_http(url: str) -> None:
    assert urls.validate_python(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://example.com/",
        "/relative/path",
        "https://",
        "https://exa mple.com/",
        "https://example.com:99999/",
        "https://[::1/",
        "https://example.com/" + "a" * 2048,
        "",
    ],
)
def test_web_urls_refuse_everything_else(url: str) -> None:
    with pytest.raises(ValidationError):
        urls.validate_python(url)


# --- no model lets anything but a ValidationError escape --------------------------------

VALID: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (LogRecord, {"message": "m", "service": "s"}),
    (
        Span,
        {
            "trace_id": "1" * 32,
            "span_id": "2" * 16,
            "name": "n",
            "service": "s",
            "start_time_unix_nano": 1,
            "end_time_unix_nano": 2,
        },
    ),
    (MetricPoint, {"name": "m", "kind": "gauge", "value": 1}),
    (HealthReport, {"status": "healthy", "worker": "w", "version": "1"}),
    (AlertEvent, {"name": "a"}),
    (SecurityEvent, {"type": "xss", "ip": "192.0.2.1", "action": "block"}),
    (WebVital, {"name": "LCP", "value": 1, "id": "v6-1-2"}),
]
WEIRD: list[Any] = [
    None,
    True,
    -1,
    2**70,
    1.5,
    float("nan"),
    "",
    "x" * 70_000,
    "\ud800",
    b"bytes",
    [],
    [object()],
    {},
    {"k": object()},
    object(),
]


@pytest.mark.parametrize(("model", "valid"), VALID, ids=[m.__name__ for m, _ in VALID])
def test_every_field_answers_weird_input_with_a_validation_error(
    model: type[BaseModel], valid: dict[str, Any]
) -> None:
    model.model_validate(valid)
    for field in [*model.model_fields, "start_ms", "navigationType", "msg"]:
        for weird in WEIRD:
            with contextlib.suppress(ValidationError):  # anything else fails the test
                model.model_validate({**valid, field: weird})
    for weird in WEIRD:
        with pytest.raises(ValidationError):
            model.model_validate(weird)
