"""Retry delays: exponential with jitter in [0.5, 1), capped, and Retry-After honoured."""

from __future__ import annotations

import pytest

from alerting.backoff import Backoff, jitter, parse_retry_after


def test_delays_double_with_bounded_jitter_up_to_the_cap() -> None:
    backoff = Backoff(base_ms=1000, cap_ms=8000, max_attempts=6)
    for attempt, full in [(1, 1000), (2, 2000), (3, 4000), (4, 8000), (5, 8000)]:
        delay = backoff.delay_ms("n1", attempt)
        assert full * 0.5 <= delay < full
        assert delay == int(full * (0.5 + 0.5 * jitter("n1", attempt)))
    assert backoff.exhausted(6) and not backoff.exhausted(5)


def test_jitter_spreads_notifications_failing_together() -> None:
    delays = {Backoff().delay_ms(str(i), 1) for i in range(50)}
    assert len(delays) > 40


def test_retry_after_is_a_floor() -> None:
    assert Backoff(base_ms=1000).delay_ms("n", 1, retry_after_s=30) == 30_000
    assert Backoff(base_ms=100_000).delay_ms("n", 1, retry_after_s=1) >= 50_000


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("99999999", 3600.0),
    ],
)
def test_retry_after_headers(header: str | None, seconds: float | None) -> None:
    now = 1_445_412_480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after(header, now) == seconds
