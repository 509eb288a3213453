"""Span: native JSON spans and values passed through from OTLP JSON."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from obs_schema.models import Span, SpanKind, StatusCode

TRACE = "5b8efff798038103d269b633813fc60c"
BASE: dict[str, Any] = {
    "trace_id": TRACE,
    "span_id": "eee19b7ec3c1b174",
    "name": "GET /api/users",
    "service": "api",
    "start_time_unix_nano": 1544712660000000000,
    "end_time_unix_nano": 1544712661000000000,
}
MISSING = object()


def span(**fields: Any) -> Span:
    data = {key: value for key, value in {**BASE, **fields}.items() if value is not MISSING}
    return Span.model_validate(data)


def test_a_minimal_span_gets_defaults_and_derived_numbers() -> None:
    root = span()
    assert root.model_dump(mode="json") == {
        **BASE,
        "parent_span_id": None,
        "kind": "internal",
        "status": {"code": "unset", "message": ""},
        "attributes": {},
        "events": [],
        "links": [],
    }
    assert (root.duration_ns, root.duration_ms, root.start_ms) == (10**9, 1000.0, 1544712660000.0)
    assert (root.is_root, root.is_error) == (True, False)


def test_otlp_json_values_pass_through() -> None:
    child = span(
        trace_id=TRACE.upper(),
        span_id="EEE19B7EC3C1B174",
        parent_span_id="EEE19B7EC3C1B173",
        kind=2,
        start_time_unix_nano="1544712660000000000",
        end_time_unix_nano="1544712661000000000",
        status={"code": 2, "message": "boom"},
        events=[
            {
                "name": "exception",
                "time_unix_nano": "1544712660500000000",
                "attributes": {"exception.type": "ValueError"},
            }
        ],
        links=[{"trace_id": "A" * 32, "span_id": "B" * 16}],
    )
    assert (child.trace_id, child.parent_span_id) == (TRACE, "eee19b7ec3c1b173")
    assert (child.kind, child.status.code, child.is_error) == (
        SpanKind.SERVER,
        StatusCode.ERROR,
        True,
    )
    assert child.events[0].time_unix_nano == 1544712660500000000
    assert (child.links[0].trace_id, child.links[0].span_id) == ("a" * 32, "b" * 16)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (0, SpanKind.UNSPECIFIED),
        (1, SpanKind.INTERNAL),
        (3, SpanKind.CLIENT),
        (4, SpanKind.PRODUCER),
        (5, SpanKind.CONSUMER),
        ("server", SpanKind.SERVER),
        ("CLIENT", SpanKind.CLIENT),
        ("SPAN_KIND_CONSUMER", SpanKind.CONSUMER),
    ],
)
def test_kinds_accept_words_numbers_and_proto_names(kind: object, expected: SpanKind) -> None:
    assert span(kind=kind).kind is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (0, StatusCode.UNSET),
        (1, StatusCode.OK),
        ("error", StatusCode.ERROR),
        ("STATUS_CODE_OK", StatusCode.OK),
    ],
)
def test_status_codes_accept_words_numbers_and_proto_names(
    code: object, expected: StatusCode
) -> None:
    assert span(status={"code": code}).status.code is expected


def test_times_may_be_given_in_milliseconds() -> None:
    timed = span(
        start_time_unix_nano=MISSING,
        end_time_unix_nano=MISSING,
        start_ms=1544712660000,
        end_ms=1544712660250.5,
    )
    assert timed.start_time_unix_nano == 1544712660000000000
    assert timed.end_time_unix_nano == 1544712660250500000
    assert timed.duration_ms == 250.5


def test_nanoseconds_win_over_milliseconds() -> None:
    assert span(start_ms=1).start_time_unix_nano == BASE["start_time_unix_nano"]


def test_a_zero_length_span_is_valid() -> None:
    instant = span(end_time_unix_nano=BASE["start_time_unix_nano"])
    assert instant.duration_ns == 0


def test_unicode_names_and_attributes_survive() -> None:
    named = span(name="SELECT * FROM pitches WHERE title = ?  -- 🎬", attributes={"标题": "電影"})
    assert named.name.endswith("🎬")
    assert named.attributes == {"标题": "電影"}


INVALID: list[tuple[str, dict[str, Any]]] = [
    ("trace_id", {"trace_id": MISSING}),
    ("trace_id", {"trace_id": "0" * 32}),
    ("trace_id", {"trace_id": ""}),
    ("span_id", {"span_id": "eee19b7ec3c1b17"}),
    ("parent_span_id", {"parent_span_id": "xyz"}),
    ("name", {"name": ""}),
    ("name", {"name": "GET\n/"}),
    ("name", {"name": "n" * 1025}),
    ("service", {"service": MISSING}),
    ("kind", {"kind": 6}),
    ("kind", {"kind": "sideways"}),
    ("kind", {"kind": True}),
    ("start_time_unix_nano", {"start_time_unix_nano": 0}),
    ("start_time_unix_nano", {"start_time_unix_nano": "soon"}),
    ("start_time_unix_nano", {"start_time_unix_nano": -5}),
    ("start_time_unix_nano", {"start_time_unix_nano": 1.5}),
    ("start_time_unix_nano", {"start_time_unix_nano": True}),
    ("end_time_unix_nano", {"end_time_unix_nano": 2**63}),
    ("end_time_unix_nano", {"end_time_unix_nano": "1" * 20}),
    ("start_time_unix_nano", {"start_time_unix_nano": MISSING, "start_ms": "soon"}),
    ("status", {"status": {"code": 3}}),
    ("status", {"status": {"message": "m" * 4097}}),
    ("events", {"events": [{"name": "e", "time_unix_nano": 1}] * 129}),
    ("events", {"events": [{"name": "e"}]}),
    ("links", {"links": [{"trace_id": TRACE}]}),
    ("attributes", {"attributes": {"x": float("inf")}}),
]


@pytest.mark.parametrize(("field", "change"), INVALID)
def test_invalid_spans_name_the_field(field: str, change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        span(**change)
    assert field in {str(error["loc"][0]) for error in caught.value.errors()}


def test_a_span_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationError, match="before start"):
        span(end_time_unix_nano=BASE["start_time_unix_nano"] - 1)
