"""DNS over HTTPS checks against a local resolver speaking the DoH JSON API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitoring.probes import ProbeContext, dns, run
from tests.workers.monitoring.support import Target

LOCAL = ProbeContext(env=None, check_id="t", timeout_s=2.0, allow_private=True)


def answer(status: int = 0, records: list[tuple[int, str]] | None = None) -> bytes:
    rows = [{"name": "pitchey.com.", "type": t, "TTL": 300, "data": d} for t, d in records or []]
    return json.dumps({"Status": status, "Answer": rows}).encode()


def spec(target: Target, **fields: Any) -> dict[str, Any]:
    return {"type": "dns", "query": "pitchey.com", "resolver": f"{target.url}/dns-query", **fields}


@pytest.mark.parametrize(
    ("body", "fields", "error"),
    [
        (answer(records=[(1, "104.21.3.4")]), {}, None),
        (answer(records=[(1, "104.21.3.4"), (1, "172.67.1.2")]), {"expected": "172.67.1.2"}, None),
        (answer(records=[(1, "104.21.3.4")]), {"expected": "9.9.9.9"},
         "A records are 104.21.3.4, expected 9.9.9.9"),
        (answer(status=3), {}, "resolver answered NXDOMAIN"),
        (answer(records=[(5, "pitchey.pages.dev.")]), {"record_type": "CNAME",
         "expected": "Pitchey.Pages.Dev"}, None),
        (answer(records=[(16, '"v=spf1 -all"')]), {"record_type": "TXT",
         "expected": "v=spf1 -all"}, None),
        (answer(records=[(5, "x.example.")]), {}, "no A record in the answer"),
        (b"not json", {}, "resolver answer is not DNS JSON"),
    ],
)  # fmt: skip
@pytest.mark.anyio
async def test_answers_are_judged(
    target: Target, body: bytes, fields: dict[str, Any], error: str | None
) -> None:
    target.body = body
    outcome = await run(spec(target, **fields), LOCAL)
    assert (outcome.ok, outcome.error) == (error is None, error)


@pytest.mark.anyio
async def test_the_query_uses_the_json_api(target: Target) -> None:
    target.body = answer(records=[(28, "2606:4700::1")])
    await run(spec(target, record_type="AAAA"), LOCAL)
    assert target.hits == ["/dns-query?name=pitchey.com&type=AAAA"]


def test_normalisation() -> None:
    assert dns.normalise("MX", "10 Mail.Pitchey.com.") == "10 mail.pitchey.com"
    assert dns.normalise("TXT", '"a" "b"') == "ab"
