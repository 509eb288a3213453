"""`POST /security/check` on the local stack: decisions, threats, headers, auth."""

from __future__ import annotations

import gzip
import json
import re

import httpx
import pytest

from localedge.stack import Stack
from tests.workers.security.conftest import ADMIN, INGEST, READ, metric

pytestmark = pytest.mark.anyio
BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "accept": "*/*"}


async def check(http: httpx.AsyncClient, **request: object) -> dict[str, object]:
    body = {"ip": "203.0.113.7", "path": "/api/pitches", "headers": BROWSER, **request}
    reply = await http.post("/security/check", json=body, headers=INGEST)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


async def test_a_benign_request_is_allowed_with_the_rate_limit_it_counts_against(
    http: httpx.AsyncClient,
) -> None:
    answer = await check(http, query="q=director%27s%20cut&page=2")
    assert answer == {
        "action": "allow",
        "score": 0,
        "reasons": [],
        "threats": [],
        "rate_limit": {"limit": 600, "remaining": 599, "reset_s": 60, "rule": "per-ip"},
        "headers": {
            "RateLimit-Limit": "600",
            "RateLimit-Remaining": "599",
            "RateLimit-Reset": "60",
            "RateLimit-Policy": "600;w=60",
        },
        "anomalies": [],
        "incident": None,
    }


async def test_an_encoded_sql_injection_is_blocked_with_scrubbed_evidence(
    http: httpx.AsyncClient,
) -> None:
    answer = await check(http, query="id=1%2527%2520OR%25201%253D1--")  # URL-encoded twice
    assert answer["action"] == "block"
    threats = answer["threats"]
    assert isinstance(threats, list) and threats
    assert {t["type"] for t in threats} == {"sqli"}
    assert {t["location"] for t in threats} == {"query.id"}
    assert "sqli-boolean-literals" in {t["rule"] for t in threats}
    assert answer["reasons"] == ["anomaly score 10 (sqli) reached the block score 5"]
    assert answer["incident"] is not None


async def test_the_detection_is_recorded_as_an_event_and_an_incident(
    http: httpx.AsyncClient,
) -> None:
    await check(http, path="/api/files", query="name=..%2f..%2f..%2fetc%2fpasswd")
    events = (await http.get("/security/events?type=path_traversal", headers=READ)).json()
    [event] = events["events"]
    assert event["ip"] == "203.0.113.7" and event["route"] == "/api/files"
    assert event["action"] == "block" and event["time"] == "2026-11-27T10:00:00.000Z"
    assert {m["rule"] for m in event["evidence"]["matches"]} >= {"lfi-sensitive-file"}
    incidents = (await http.get("/security/incidents", headers=READ)).json()["incidents"]
    assert [(i["ip"], i["types"], i["id"]) for i in incidents] == [
        ("203.0.113.7", {"path_traversal": 1}, event["incident"])
    ]


AUTH = [
    ({}, 401),
    ({"authorization": "Bearer nope"}, 401),
    (READ, 403),
    (INGEST, 200),
    (ADMIN, 200),
]


async def test_check_needs_an_ingest_token(http: httpx.AsyncClient) -> None:
    for headers, status in AUTH:
        reply = await http.post("/security/check", json={"ip": "203.0.113.7"}, headers=headers)
        assert reply.status_code == status, headers


MALFORMED = [
    ({"ip": "not-an-ip"}, "ip"),
    ({"ip": "203.0.113.7", "country": "GBR"}, "country"),
    ({"ip": "203.0.113.7", "headers": [["only-a-name"]]}, "headers"),
    ({"ip": "203.0.113.7", "latitude": 91}, "latitude"),
]


async def test_malformed_checks_are_422_naming_the_field(http: httpx.AsyncClient) -> None:
    for body, field in MALFORMED:
        reply = await http.post("/security/check", json=body, headers=INGEST)
        assert reply.status_code == 422
        assert reply.json()["error"]["details"][0]["loc"][1] == field


async def test_service_binding_callers_check_over_rpc(stack: Stack) -> None:
    entry = stack.worker("obs-security").entrypoint()
    answer = await entry.check(
        {"ip": "203.0.113.8", "path": "/api/files", "query": "f=../../etc/passwd"}
    )
    assert answer["action"] == "block" and answer["threats"][0]["type"] == "path_traversal"
    invalid = await entry.check({"ip": "nope"})
    assert invalid["error"]["code"] == "validation_failed"
    assert invalid["error"]["details"][0]["loc"] == ["ip"]
    reported = await entry.report_outcomes([{"ip": "203.0.113.8", "status": 404}, {"ip": 1}])
    assert (reported["accepted"], [r["index"] for r in reported["rejected"]]) == (1, [1])


async def test_a_failing_shard_does_not_fail_the_check(
    http: httpx.AsyncClient, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace = stack.worker("obs-security").env.SHARDS

    async def overloaded(*_: object, **__: object) -> object:
        raise RuntimeError("Durable Object is overloaded. Too many requests queued.")

    monkeypatch.setattr(namespace, "_call", overloaded)
    answer = await check(http, query="q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert answer["action"] == "block"  # detection still answers
    assert answer["rate_limit"] is None
    assert "rate limiting and recording unavailable (state unavailable)" in answer["reasons"]


async def test_an_incident_lists_its_events_and_can_be_resolved(http: httpx.AsyncClient) -> None:
    first = await check(http, query="q=%3Cscript%3Ealert(1)%3C/script%3E")
    second = await check(http, path="/api/files", query="f=../../etc/passwd")
    assert first["incident"] == second["incident"]
    detail = (await http.get(f"/security/incidents/{first['incident']}", headers=READ)).json()
    assert detail["types"] == {"xss": 1, "path_traversal": 1}
    assert [e["type"] for e in detail["event_list"]] == ["path_traversal", "xss"]
    raw = sum(e["score"] for e in detail["event_list"])
    assert detail["score"] == round(raw * 1.25, 2)  # two kinds of attack weigh more
    resolved = await http.post(f"/security/incidents/{first['incident']}/resolve", headers=ADMIN)
    assert resolved.json()["status"] == "resolved"
    still_open = (await http.get("/security/incidents?status=open", headers=READ)).json()
    assert still_open["incidents"] == []
    missing = await http.get("/security/incidents/inc-nope", headers=READ)
    assert missing.status_code == 404


async def test_every_route_is_in_the_openapi_document_with_its_schemas(
    http: httpx.AsyncClient,
) -> None:
    spec = (await http.get("/security/openapi.json")).json()
    expected = {
        "/security/check",
        "/security/outcomes",
        "/security/rules",
        "/security/events",
        "/security/incidents",
        "/security/incidents/{incident_id}",
        "/security/incidents/{incident_id}/resolve",
        "/security/blocks",
        "/security/blocks/{block_id}",
        "/security/audit",
        "/security/audit/{audit_id}/undo",
        "/security/blocklists",
        "/security/blocklists/{name}",
    }
    assert expected <= set(spec["paths"])
    for path in expected:
        for operation in spec["paths"][path].values():
            ok = operation["responses"].get("200") or operation["responses"].get("201")
            assert "$ref" in str(ok["content"]["application/json"]["schema"]), path


async def test_checks_answered_ahead_of_routing_are_counted_and_shaped_as_routed_ones(
    http: httpx.AsyncClient,
) -> None:
    series = 'http_requests_total{route="/security/check",method="POST",status="200"}'
    before = await metric(http, series)
    plain = await http.post("/security/check", json={"ip": "192.0.2.77"}, headers=INGEST)
    # A gzipped body is decompressed by the shared BodyGuard first; answered the same way.
    packed = gzip.compress(json.dumps({"ip": "192.0.2.77"}).encode())
    zipped = await http.post(
        "/security/check",
        content=packed,
        headers={**INGEST, "content-type": "application/json", "content-encoding": "gzip"},
    )
    # Not JSON: FastAPI answers, with the one error model.
    form = await http.post("/security/check", content=b"ip=192.0.2.77", headers=INGEST)
    assert plain.status_code == zipped.status_code == 200
    assert plain.headers["content-type"] == "application/json"
    assert int(plain.headers["content-length"]) == len(plain.content)
    assert zipped.json()["rate_limit"]["remaining"] == plain.json()["rate_limit"]["remaining"] - 1
    assert form.status_code == 422 and "error" in form.json()
    # Both, plain and gzipped, are counted under the route, as routed requests are.
    assert await metric(http, series) == before + 2


async def test_personal_data_in_evidence_gets_the_marker_the_logs_give_it(
    http: httpx.AsyncClient,
) -> None:
    # No OBS_SCRUB_KEY and nothing minted yet: the security Worker asks the logs Worker,
    # which mints the deployment's key, so one address is one marker in both.
    email = "casting.director@example.com"
    answer = await check(http, query=f"q=x%27%20OR%20%271%27%3D%271%27%20--%20{email}")
    threats = answer["threats"]
    assert isinstance(threats, list) and threats
    excerpts = " ".join(str(t["evidence"]) for t in threats)
    assert email not in excerpts
    [marker] = set(re.findall(r"\[email:[0-9a-f]{8}\]", excerpts))
    record = {"level": "info", "service": "web", "message": f"invite sent to {email}"}
    stored = await http.post("/logs/ingest", json=[record], headers=INGEST)
    assert stored.status_code == 202 and stored.json()["accepted"] == 1
    found = await http.get("/logs/query", params={"q": "invite"}, headers=READ)
    assert [log["message"] for log in found.json()["logs"]] == [f"invite sent to {marker}"]
