"""Token buckets per destination, sized to the providers' published limits."""

from __future__ import annotations

from alerting.throttle import Bucket, Limit, limit_for


def test_a_burst_then_one_per_token_interval() -> None:
    limit = Limit(rate_per_s=1.0, burst=3.0)
    bucket: Bucket | None = None
    waits = []
    for _ in range(5):
        bucket, wait = limit.take(bucket, 0)
        waits.append(wait)
    assert waits == [0, 0, 0, 1000, 1000]
    bucket, wait = limit.take(bucket, 1000)
    assert wait == 0 and bucket.tokens == 0.0


def test_pagerduty_never_exceeds_120_events_in_a_minute() -> None:
    limit, bucket, sent = limit_for("pagerduty"), None, 0
    for ms in range(0, 60_000, 100):
        bucket, wait = limit.take(bucket, ms)
        sent += wait == 0
    assert sent <= 120


def test_overrides_apply_per_integration() -> None:
    assert limit_for("slack", {"per_second": 5, "burst": 10}) == Limit(5.0, 10.0)
    assert limit_for("unknown-kind") == Limit(10.0, 10.0)
