"""Ingest through HTTP: formats, partial acceptance, limits, scrubbing before storage, enrichment,
and durability of what was acknowledged across a restart."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import httpx
import pytest

from localedge.clock import ManualClock
from localedge.stack import Stack
from tests.stacks import gateway_client
from tests.workers.logs.conftest import make_stack
from tests.workers.logs.helpers import (
    INGEST,
    READ,
    SPAN,
    T0_MS,
    TRACE,
    ingest,
    messages,
    query,
    raw_storage,
)

pytestmark = pytest.mark.anyio

RECORD = {
    "timestamp": "2026-11-27T09:59:00.250Z",
    "level": "WARN",
    "message": "slow pitch upload",
    "service": "api",
    "trace_id": TRACE.upper(),
    "span_id": SPAN,
    "attributes": {"http": {"route": "/pitches", "status": 201}},
}


async def test_a_record_is_stored_normalised_and_enriched(http: httpx.AsyncClient) -> None:
    answer = await ingest(http, [RECORD])
    assert answer == {"accepted": 1, "rejected": []}
    (stored,) = (await query(http))["logs"]
    assert stored == {
        "id": stored["id"],
        "timestamp": "2026-11-27T09:59:00.250Z",
        "received": "2026-11-27T10:00:00.000Z",
        "level": "warning",
        "service": "api",
        "message": "slow pitch upload",
        "trace_id": TRACE,
        "span_id": SPAN,
        "attributes": {"http": {"route": "/pitches", "status": 201}},
        "fingerprint": stored["fingerprint"],
        "source": "http",
        "edge": "local",
    }
    assert len(stored["id"]) == 18 and len(stored["fingerprint"]) == 16


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", json.dumps([RECORD, RECORD]).encode()),
        ("application/json", json.dumps({"logs": [RECORD, RECORD]}).encode()),
        ("application/x-ndjson", (json.dumps(RECORD) + "\n" + json.dumps(RECORD) + "\n").encode()),
    ],
)
async def test_json_arrays_wrapped_arrays_and_ndjson_are_accepted(
    shared_http: httpx.AsyncClient, content_type: str, body: bytes
) -> None:
    reply = await shared_http.post(
        "/logs/ingest", content=body, headers={**INGEST, "content-type": content_type}
    )
    assert reply.status_code == 202 and reply.json() == {"accepted": 2, "rejected": []}


async def test_gzip_bodies_are_accepted(shared_http: httpx.AsyncClient) -> None:
    body = gzip.compress(json.dumps([RECORD]).encode())
    headers = {**INGEST, "content-type": "application/json", "content-encoding": "gzip"}
    reply = await shared_http.post("/logs/ingest", content=body, headers=headers)
    assert reply.json() == {"accepted": 1, "rejected": []}


async def test_bad_records_are_rejected_one_by_one_and_the_good_ones_kept(
    http: httpx.AsyncClient,
) -> None:
    good = {"message": "kept", "service": "api"}
    body = "\n".join(
        [
            json.dumps(good),
            "{not json",
            json.dumps({"message": "x"}),
            json.dumps({"message": 3, "service": "api"}),
            json.dumps({"message": "x", "service": "api", "level": "loud"}),
            json.dumps({"message": "x", "service": "api", "trace_id": "abc"}),
            json.dumps({"message": "x", "service": "api", "timestamp": "yesterday"}),
            json.dumps({"message": "x" * (32 * 1024 + 1), "service": "api"}),
            json.dumps({"message": "x", "service": "api", "attributes": [1]}),
            json.dumps({"message": "x", "service": "api", "timestamp": T0_MS - 8 * 86400_000}),
            json.dumps({"message": "x", "service": "api", "timestamp": T0_MS + 3 * 3600_000}),
            json.dumps(good),
        ]
    )
    reply = await http.post(
        "/logs/ingest", content=body, headers={**INGEST, "content-type": "application/x-ndjson"}
    )
    assert reply.status_code == 202
    assert reply.json() == {
        "accepted": 2,
        "rejected": [
            {"index": 1, "error": "line 2 is not valid JSON"},
            {"index": 2, "error": "service is required (a string naming what logged it)"},
            {"index": 3, "error": "message must be a string, not a number"},
            {"index": 4, "error": reply.json()["rejected"][3]["error"]},
            {"index": 5, "error": "trace_id must be 32 hex digits"},
            {"index": 6, "error": "timestamp 'yesterday' is not RFC 3339 or epoch milliseconds"},
            {"index": 7, "error": "message is 32769 bytes; the limit is 32768"},
            {"index": 8, "error": "attributes must be a JSON object"},
            {"index": 9, "error": "timestamp is older than the hot retention (7 days)"},
            {"index": 10, "error": "timestamp is more than 2 hours in the future"},
        ],
    }
    assert reply.json()["rejected"][3]["error"].startswith("level: unknown log level 'loud'")
    assert messages(await query(http)) == ["kept", "kept"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{oops", 400, "bad_request"),
        (b'{"logs": 3}', 400, "bad_request"),
        (
            json.dumps([{"message": "x", "service": "a"}] * 10_001).encode(),
            413,
            "payload_too_large",
        ),
    ],
)
async def test_unreadable_or_oversized_batches_are_refused_whole(
    shared_http: httpx.AsyncClient, body: bytes, status: int, code: str
) -> None:
    reply = await shared_http.post(
        "/logs/ingest", content=body, headers={**INGEST, "content-type": "application/json"}
    )
    assert reply.status_code == status and reply.json()["error"]["code"] == code


async def test_ingest_needs_an_ingest_token(shared_http: httpx.AsyncClient) -> None:
    assert (await shared_http.post("/logs/ingest", json=[RECORD])).status_code == 401
    assert (await shared_http.post("/logs/ingest", json=[RECORD], headers=READ)).status_code == 403


async def test_the_edge_location_comes_from_cf_ray(http: httpx.AsyncClient) -> None:
    headers = {**INGEST, "cf-ray": "8f1d2c3b4a5e6f70-LHR"}
    await http.post("/logs/ingest", json=[RECORD], headers=headers)
    assert (await query(http))["logs"][0]["edge"] == "LHR"


async def test_personal_data_never_reaches_storage(http: httpx.AsyncClient, data_dir: Path) -> None:
    await ingest(
        http,
        [
            {
                "message": "card 4111 1111 1111 1111 declined for alice@example.com "
                "from 203.0.113.7",
                "service": "billing",
                "attributes": {"password": "hunter2", "user": {"phone": "+44 20 7946 0958"}},
            }
        ],
    )
    stored = await query(http)
    text = json.dumps(stored) + raw_storage(data_dir)
    for secret in ("4111", "alice@example.com", "203.0.113.7", "hunter2", "7946"):
        assert secret not in text
    record = stored["logs"][0]
    assert record["message"].startswith("card [card:")
    assert record["attributes"]["password"].startswith("[secret:")


async def test_acknowledged_records_survive_a_restart(
    stack: Stack, data_dir: Path, clock: ManualClock
) -> None:
    async with gateway_client(stack, "http://test") as http:
        await ingest(
            http, [{"message": f"record {i}", "service": f"svc{i % 3}"} for i in range(30)]
        )
    await stack.close()
    reopened = make_stack(data_dir, clock)
    await reopened.start(run_timers=False)
    try:
        async with gateway_client(reopened, "http://test") as http:
            answer = await query(http, limit=100)
            assert sorted(messages(answer)) == sorted(f"record {i}" for i in range(30))
            await ingest(http, [{"message": "after restart", "service": "svc0"}])
            assert len((await query(http, limit=100))["logs"]) == 31
    finally:
        await reopened.close()
