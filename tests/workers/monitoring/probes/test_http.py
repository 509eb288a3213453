"""HTTP checks against a real local server: status, keywords, JSON fields, latency limits,
timeouts, refused connections and redirects to private hosts."""

from __future__ import annotations

from typing import Any

import pytest

from monitoring.probes import ProbeContext, http, run
from tests.workers.monitoring.support import Target

LOCAL = ProbeContext(env=None, check_id="t", timeout_s=2.0, allow_private=True)


def spec(target: Target, **fields: Any) -> dict[str, Any]:
    return {"type": "http", "url": f"{target.url}/health", **fields}


@pytest.mark.parametrize(
    ("status", "body", "fields", "error"),
    [
        (200, b'{"status": "ok"}', {}, None),
        (503, b"", {}, "HTTP 503 (accepted: 200-299)"),
        (301, b"", {"accepted_status": [301, "200-204"], "follow_redirects": False}, None),
        (200, b"all good", {"keyword": "good"}, None),
        (200, b"all good", {"keyword": "pitch"}, "keyword 'pitch' not found in the response"),
        (200, b"Error: db", {"keyword_absent": "Error"}, "keyword 'Error' found in the response"),
        (200, b'{"db": "down"}', {"json_assert": {"path": "db", "value": "up"}},
         'db is "down", expected eq "up"'),
    ],
)  # fmt: skip
@pytest.mark.anyio
async def test_responses_are_judged(
    target: Target, status: int, body: bytes, fields: dict[str, Any], error: str | None
) -> None:
    target.status, target.body = status, body
    outcome = await run(spec(target, **fields), LOCAL)
    assert (outcome.ok, outcome.error, outcome.status_code) == (error is None, error, status)
    assert outcome.latency_ms is not None and outcome.latency_ms > 0


@pytest.mark.anyio
async def test_the_request_carries_method_headers_and_body(target: Target) -> None:
    outcome = await run(spec(target, method="POST", headers={"x-probe": "1"}, body="ping"), LOCAL)
    assert outcome.ok and target.hits == ["/health"]


@pytest.mark.anyio
async def test_slow_answers_fail_the_latency_limit_and_time_out(target: Target) -> None:
    target.delay_s = 0.3
    slow = await run(spec(target, max_latency_ms=100), LOCAL)
    assert not slow.ok and slow.error is not None and "above the 100 ms limit" in slow.error
    quick = ProbeContext(env=None, check_id="t", timeout_s=0.1, allow_private=True)
    timed_out = await run(spec(target), quick)
    assert (timed_out.ok, timed_out.error) == (False, "timed out after 0.1 s")


@pytest.mark.anyio
async def test_a_closed_port_is_a_connection_failure() -> None:
    outcome = await run({"type": "http", "url": "http://127.0.0.1:9/"}, LOCAL)
    assert not outcome.ok and outcome.error is not None
    assert outcome.error.startswith("connection failed")


@pytest.mark.anyio
async def test_private_targets_and_redirects_to_them_are_refused_when_not_allowed(
    target: Target,
) -> None:
    public_only = ProbeContext(env=None, check_id="t", timeout_s=2.0, allow_private=False)
    direct = await run(spec(target), public_only)
    assert direct.error == "target refused: 127.0.0.1 is not a public address"
    assert target.hits == []


def test_status_ranges() -> None:
    assert http.status_accepted(204, ["200-299"])
    assert http.status_accepted(404, [404])
    assert not http.status_accepted(500, ["200-299", 301])
