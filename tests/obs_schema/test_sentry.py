"""Sentry reporting: DSNs, events, envelope bytes per the spec, and delivery to a real local
receiver with retries - without ever leaking the DSN's key or a local variable."""

from __future__ import annotations

import json
import logging
import platform
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from obs_schema import __version__, host
from obs_schema.sentry import (
    SentryDsn,
    SentryReporter,
    auth_header,
    build_event,
    encode_envelope,
    parse_dsn,
)
from tests.receiver import Receiver, receiver

KEY = "e12d836b15bb49d7bbf99e64295d995b"
EVENT_ID = "9ec79c33ec9942ab8353589fcb2e04dc"
NOW = 1795773600.0  # 2026-11-27T10:00:00Z


# --- helpers ----------------------------------------------------------------------------


def raised(function: Callable[[], object]) -> BaseException:
    try:
        function()
    except Exception as exc:
        return exc
    raise AssertionError("did not raise")


def fails_deep_inside() -> None:
    password = "hunter2-local-secret"  # a local variable no report may carry
    assert password

    def outer() -> None:
        inner()

    def inner() -> None:
        raise ValueError("bad input")

    outer()


def parse_envelope(data: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]:
    """Envelope = Headers { "\\n" Item } [ "\\n" ]; Item = Headers "\\n" Payload."""
    header_line, _, rest = data.partition(b"\n")
    items = []
    while rest:
        item_line, _, rest = rest.partition(b"\n")
        item_header = json.loads(item_line)
        length = item_header.get("length")
        if length is None:
            payload, _, rest = rest.partition(b"\n")
        else:
            payload, rest = rest[:length], rest[length:]
            assert rest[:1] in (b"\n", b""), "a length-prefixed payload ends with \\n or EOF"
            rest = rest[1:]
        items.append((item_header, payload))
    return json.loads(header_line), items


@pytest.fixture
def clock() -> Iterator[list[float]]:
    now = [NOW]
    host.install(clock=lambda: now[0])
    yield now
    host.reset()


class Sleeps:
    """Records back-off delays instead of waiting them out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


# --- a real HTTP receiver on loopback (tests/receiver.py) ------------------------------


@pytest.fixture
def relay() -> Iterator[Receiver]:
    """Stands in for Sentry's ingestion (Relay)."""
    with receiver() as running:
        yield running


def dsn_of(running: Receiver) -> str:
    return running.url.replace("http://", f"http://{KEY}@", 1) + "/42"


# --- DSN --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dsn", "expected", "envelope_url"),
    [
        (
            f"https://{KEY}@o1.ingest.sentry.io/42",
            SentryDsn("https", KEY, "o1.ingest.sentry.io", "", "42"),
            "https://o1.ingest.sentry.io/api/42/envelope/",
        ),
        (
            "http://public:secret@127.0.0.1:8787/7",
            SentryDsn("http", "public", "127.0.0.1:8787", "", "7"),
            "http://127.0.0.1:8787/api/7/envelope/",
        ),
        (
            "https://k@sentry.example.com/sentry/eu/99/",
            SentryDsn("https", "k", "sentry.example.com", "/sentry/eu", "99"),
            "https://sentry.example.com/sentry/eu/api/99/envelope/",
        ),
        (
            " http://k@[::1]:9000/3 ",
            SentryDsn("http", "k", "[::1]:9000", "", "3"),
            "http://[::1]:9000/api/3/envelope/",
        ),
    ],
)
def test_dsns_parse_into_their_parts(dsn: str, expected: SentryDsn, envelope_url: str) -> None:
    parsed = parse_dsn(dsn)
    assert parsed == expected
    assert parsed.envelope_url == envelope_url


@pytest.mark.parametrize(
    "dsn",
    [
        "",
        "not a dsn",
        f"ftp://{KEY}@host/1",
        "https://host/1",
        f"https://{KEY}@/1",
        f"https://{KEY}@host",
        f"https://{KEY}@host/",
        f"https://{KEY}@host/project",
        f"https://{KEY}@host:port/1",
        f"https://{KEY}@host:99999/1",
        "https://bad key@host/1",
        f"https://{KEY},sentry_key=evil@host/1",
        f"https://{KEY}@[::1/1",
    ],
)
def test_malformed_dsns_raise_value_errors_that_never_repeat_the_key(dsn: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_dsn(dsn)
    assert KEY not in str(caught.value)


def test_a_parsed_dsn_never_shows_its_key() -> None:
    dsn = parse_dsn(f"https://{KEY}@o1.ingest.sentry.io/42")
    assert KEY not in repr(dsn)
    assert dsn.as_url() == f"https://{KEY}@o1.ingest.sentry.io/42"


def test_the_auth_header_names_client_version_and_key() -> None:
    assert auth_header(parse_dsn(f"https://{KEY}@h/1")) == (
        f"Sentry sentry_version=7, sentry_client=pitchey-obs/{__version__}, sentry_key={KEY}"
    )


# --- event ------------------------------------------------------------------------------


def event_for(exc: BaseException, route: str | None = "/logs/query") -> dict[str, Any]:
    return build_event(
        exc,
        worker="logs",
        route=route,
        environment="staging",
        release="logs@1.2.3",
        event_id=EVENT_ID,
        timestamp=NOW,
    )


def test_an_event_carries_the_documented_fields_and_nothing_about_the_host() -> None:
    event = event_for(raised(fails_deep_inside))
    assert {key: value for key, value in event.items() if key != "exception"} == {
        "event_id": EVENT_ID,
        "timestamp": NOW,
        "platform": "python",
        "level": "error",
        "environment": "staging",
        "release": "logs@1.2.3",
        "tags": {"worker": "logs", "route": "/logs/query"},
        "transaction": "/logs/query",
        "sdk": {"name": "pitchey-obs", "version": __version__},
        "contexts": {"runtime": {"name": "CPython", "version": platform.python_version()}},
    }


def test_the_exception_has_type_value_mechanism_and_frames_oldest_first() -> None:
    (value,) = event_for(raised(fails_deep_inside))["exception"]["values"]
    assert (value["type"], value["value"], "module" in value) == ("ValueError", "bad input", False)
    assert value["mechanism"] == {"type": "asgi", "handled": False}
    frames = value["stacktrace"]["frames"]
    assert [frame["function"].rsplit(".", 1)[-1] for frame in frames] == [
        "raised",
        "fails_deep_inside",
        "outer",
        "inner",
    ]
    last = frames[-1]
    assert last["context_line"].strip() == 'raise ValueError("bad input")'
    assert last["abs_path"] == __file__
    assert last["filename"].endswith("test_sentry.py")
    assert isinstance(last["lineno"], int)
    assert all(frame["in_app"] for frame in frames)


def test_an_event_never_carries_locals_request_data_or_the_host_name() -> None:
    event = event_for(raised(fails_deep_inside))
    text = json.dumps(event)
    assert "hunter2-local-secret" not in text
    assert socket.gethostname() not in text or socket.gethostname() in ("localhost", "")
    assert not {"server_name", "request", "user", "extra", "breadcrumbs"} & event.keys()
    allowed = {"filename", "abs_path", "function", "module", "lineno", "context_line", "in_app"}
    for value in event["exception"]["values"]:
        for frame in value["stacktrace"]["frames"]:
            assert frame.keys() <= allowed


def test_library_and_stdlib_frames_are_not_in_app() -> None:
    frames = event_for(raised(lambda: httpx.URL("http://host:not-a-port/")))["exception"]["values"][
        -1
    ]["stacktrace"]["frames"]
    assert frames[0]["in_app"] is True
    library = [frame for frame in frames if "site-packages" in frame["abs_path"]]
    assert library and not any(frame["in_app"] for frame in library)
    stdlib = event_for(raised(lambda: json.loads("{")))["exception"]["values"][-1]
    assert stdlib["stacktrace"]["frames"][-1]["in_app"] is False
    assert stdlib["module"] == "json.decoder"


def test_chained_exceptions_are_listed_root_cause_first() -> None:
    def explicit() -> None:
        raise RuntimeError("outer") from KeyError("inner")

    def implicit() -> None:
        try:
            dict[str, int]()["missing"]
        except KeyError:
            raise ValueError("while handling") from None

    def contextual() -> None:
        try:
            dict[str, int]()["missing"]
        except KeyError:
            raise ValueError("while handling")  # noqa: B904 - the implicit context is the point

    values = event_for(raised(explicit))["exception"]["values"]
    assert [(v["type"], "mechanism" in v) for v in values] == [
        ("KeyError", False),
        ("RuntimeError", True),
    ]
    assert [v["type"] for v in event_for(raised(implicit))["exception"]["values"]] == ["ValueError"]
    assert [v["type"] for v in event_for(raised(contextual))["exception"]["values"]] == [
        "KeyError",
        "ValueError",
    ]


def test_values_are_truncated_and_broken_str_is_survived() -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    (long,) = event_for(ValueError("x" * 5000))["exception"]["values"]
    assert len(long["value"]) == 1024 and long["value"].endswith("...")
    (weird,) = event_for(Unprintable())["exception"]["values"]
    assert weird["value"] == "<exception str() failed>"
    assert weird["module"] == __name__
    assert "stacktrace" not in weird  # never raised, so no frames


def test_routes_are_reported_without_query_strings() -> None:
    event = event_for(ValueError(), route="/logs/query?token=s3cr3t")
    assert event["tags"]["route"] == "/logs/query"
    assert "s3cr3t" not in json.dumps(event)
    assert "route" not in event_for(ValueError(), route=None)["tags"]


@pytest.mark.parametrize("event_id", ["", "9EC79C33EC9942AB8353589FCB2E04DC", "xyz", "1" * 33])
def test_event_ids_must_be_32_lower_hex(event_id: str) -> None:
    with pytest.raises(ValueError):
        build_event(
            ValueError(),
            worker="w",
            route=None,
            environment="e",
            release="r",
            event_id=event_id,
            timestamp=NOW,
        )


# --- envelope ---------------------------------------------------------------------------


def test_an_envelope_parses_back_line_by_line_with_an_exact_length() -> None:
    dsn = parse_dsn(f"https://{KEY}@o1.ingest.sentry.io/42")
    event = event_for(raised(lambda: (_ for _ in ()).throw(ValueError("données 🎬\nligne 2"))))
    data = encode_envelope(event, dsn, sent_at=NOW + 0.25)
    assert data.endswith(b"\n") and data.count(b"\n") == 3  # no newline inside a line
    header, items = parse_envelope(data)
    assert header == {
        "event_id": EVENT_ID,
        "dsn": f"https://{KEY}@o1.ingest.sentry.io/42",
        "sent_at": "2026-11-27T10:00:00.250Z",
        "sdk": {"name": "pitchey-obs", "version": __version__},
    }
    ((item_header, payload),) = items
    assert item_header == {"type": "event", "length": len(payload)}
    assert json.loads(payload) == event
    assert KEY not in payload.decode()


# --- delivery ---------------------------------------------------------------------------


def reporter(dsn: str, **options: Any) -> tuple[SentryReporter, Sleeps]:
    sleeps = Sleeps()
    return SentryReporter(dsn, worker="logs", sleep=sleeps, **options), sleeps


@pytest.mark.anyio
async def test_capture_posts_an_envelope_to_the_project_endpoint(
    relay: Receiver, clock: list[float]
) -> None:
    sentry, sleeps = reporter(dsn_of(relay), environment="staging")
    event_id = await sentry.capture(raised(fails_deep_inside), route="/logs/query")
    assert event_id is not None and len(event_id) == 32
    (request,) = relay.requests
    assert request.path == "/api/42/envelope/"
    assert request.headers["x-sentry-auth"] == auth_header(sentry.dsn)
    assert request.headers["content-type"] == "application/x-sentry-envelope"
    header, ((item_header, payload),) = parse_envelope(request.body)
    event = json.loads(payload)
    assert header["event_id"] == event["event_id"] == event_id
    assert (item_header["type"], event["timestamp"], event["environment"]) == (
        "event",
        NOW,
        "staging",
    )
    assert (sentry.sent, sentry.dropped, sleeps.delays) == (1, 0, [])


@pytest.mark.anyio
async def test_a_given_event_id_is_kept(relay: Receiver, clock: list[float]) -> None:
    sentry, _ = reporter(dsn_of(relay))
    assert await sentry.capture(ValueError(), event_id=EVENT_ID) == EVENT_ID
    assert await sentry.capture(ValueError(), event_id="not-an-id") not in (None, "not-an-id")


@pytest.mark.anyio
async def test_a_503_is_retried_with_the_same_envelope(relay: Receiver, clock: list[float]) -> None:
    relay.answer(503)
    sentry, sleeps = reporter(dsn_of(relay))
    assert await sentry.capture(ValueError("boom")) is not None
    first, second = relay.requests
    assert first.body == second.body
    assert (sleeps.delays, sentry.sent, sentry.dropped) == ([0.5], 1, 0)


@pytest.mark.anyio
async def test_a_400_is_not_retried_and_is_counted_as_dropped(
    relay: Receiver, clock: list[float]
) -> None:
    relay.answer(400)
    sentry, sleeps = reporter(dsn_of(relay))
    assert await sentry.capture(ValueError("boom")) is None
    assert (len(relay.requests), sleeps.delays) == (1, [])
    assert (sentry.sent, sentry.dropped, sentry.last_error) == (0, 1, "HTTP 400 after 1 attempt(s)")


@pytest.mark.anyio
async def test_persistent_5xx_gives_up_after_three_attempts_with_exponential_backoff(
    relay: Receiver, clock: list[float]
) -> None:
    relay.answer(503, 502, 500, 200)
    sentry, sleeps = reporter(dsn_of(relay))
    assert await sentry.capture(ValueError("boom")) is None
    assert (len(relay.requests), sleeps.delays, sentry.dropped) == (3, [0.5, 1.0], 1)


@pytest.mark.anyio
async def test_a_429_waits_as_long_as_retry_after_says(relay: Receiver, clock: list[float]) -> None:
    relay.answer((429, {"Retry-After": "7"}))
    sentry, sleeps = reporter(dsn_of(relay))
    assert await sentry.capture(ValueError("boom")) is not None
    assert (len(relay.requests), sleeps.delays) == (2, [7.0])


@pytest.mark.anyio
async def test_a_long_retry_after_drops_events_until_it_has_passed(
    relay: Receiver, clock: list[float]
) -> None:
    relay.answer((429, {"Retry-After": "3600"}))
    sentry, sleeps = reporter(dsn_of(relay))
    assert await sentry.capture(ValueError("first")) is None
    assert await sentry.capture(ValueError("second")) is None
    assert (len(relay.requests), sleeps.delays, sentry.dropped) == (1, [], 2)
    clock[0] += 3601
    assert await sentry.capture(ValueError("third")) is not None
    assert len(relay.requests) == 2


@pytest.mark.anyio
async def test_a_retry_after_http_date_is_honoured(clock: list[float]) -> None:
    answers = iter([429, 200])
    when = format_datetime(datetime.fromtimestamp(NOW + 12, UTC), usegmt=True)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers), headers={"Retry-After": when})

    sentry, sleeps = reporter(f"https://{KEY}@h/1", transport=httpx.MockTransport(handler))
    assert await sentry.capture(ValueError()) is not None
    assert sleeps.delays == [12.0]


@pytest.mark.anyio
async def test_network_errors_are_retried_then_dropped(clock: list[float]) -> None:
    with socket.socket() as probe:  # a port that was just free: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sentry, sleeps = reporter(f"http://{KEY}@127.0.0.1:{port}/42")
    assert await sentry.capture(ValueError()) is None
    assert (sleeps.delays, sentry.dropped, sentry.last_error) == (
        [0.5, 1.0],
        1,
        "ConnectError after 3 attempt(s)",
    )


@pytest.mark.anyio
async def test_capture_never_raises(clock: list[float]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("transport bug")

    sentry, _ = reporter(f"https://{KEY}@h/1", transport=httpx.MockTransport(handler))
    assert await sentry.capture(ValueError()) is None
    assert (sentry.dropped, sentry.last_error) == (1, "internal RuntimeError")


@pytest.mark.anyio
async def test_the_key_never_reaches_logs_errors_or_reprs(
    relay: Receiver, clock: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    relay.answer(400, 503, 503, 503)
    caplog.set_level(logging.DEBUG)
    sentry, _ = reporter(dsn_of(relay))
    await sentry.capture(ValueError(f"user typed {KEY}?"))
    await sentry.capture(ValueError("again"))
    assert sentry.dropped == 2 and caplog.records
    assert KEY not in caplog.text
    assert KEY not in repr(sentry) and KEY not in str(sentry.last_error)
    with pytest.raises(ValueError) as caught:
        SentryReporter(f"ftp://{KEY}@host/1", worker="logs")
    assert KEY not in str(caught.value)
