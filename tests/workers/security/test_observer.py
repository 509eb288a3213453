"""Outcomes feed the behavioural detectors: credential stuffing and scanning, on the fake clock."""

from __future__ import annotations

import httpx
import pytest

from localedge.stack import Stack
from tests.workers.security.conftest import ADMIN, INGEST, READ, metric

pytestmark = pytest.mark.anyio
ATTACKER = "198.51.100.23"


async def outcomes(http: httpx.AsyncClient, items: list[dict[str, object]]) -> dict[str, object]:
    reply = await http.post("/security/outcomes", json={"outcomes": items}, headers=INGEST)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def failed_login(ip: str, account: str) -> dict[str, object]:
    return {
        "ip": ip,
        "status": 401,
        "method": "POST",
        "path": "/api/auth/login",
        "login": {"account": account, "success": False},
    }


async def test_credential_stuffing_from_one_source_ends_in_a_block_and_an_alert(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    delivered = await metric(http, 'security_alerts_total{result="delivered"}')
    stuffing = await metric(http, 'security_anomalies_total{type="credential_stuffing"}')
    for n in range(9):  # nine accounts in nine minutes: under the threshold of ten
        answer = await outcomes(http, [failed_login(ATTACKER, f"user{n}@example.com")])
        assert answer["anomalies"] == []
        await stack.advance(60)
    answer = await outcomes(http, [failed_login(ATTACKER, "user9@example.com")])
    [anomaly] = answer["anomalies"]  # type: ignore[misc]
    assert anomaly["type"] == "credential_stuffing"
    assert anomaly["detail"] == {
        "direction": "one source, many accounts",
        "accounts_failed": 10,
        "attempts": 10,
        "successes": 0,
        "window_s": 600,
    }
    await stack.drain()

    check = await http.post(
        "/security/check",
        headers=INGEST,
        json={"ip": ATTACKER, "path": "/api/auth/login", "method": "POST"},
    )
    assert check.json()["action"] == "block"
    assert check.json()["reasons"][0].startswith("source is blocked (auto): incident inc-")
    blocks = (await http.get("/security/blocks", headers=READ)).json()["blocks"]
    assert [(b["target"], b["source"], b["active"]) for b in blocks] == [(ATTACKER, "auto", True)]
    assert blocks[0]["expires_at"] == "2026-11-27T11:09:00.000Z"  # one hour after the ninth minute
    [incident] = (await http.get("/security/incidents", headers=READ)).json()["incidents"]
    assert (incident["ip"], incident["blocked"], incident["alerted"]) == (ATTACKER, True, True)
    assert await metric(http, 'security_alerts_total{result="delivered"}') == delivered + 1
    assert await metric(http, 'security_anomalies_total{type="credential_stuffing"}') == (
        stuffing + 1
    )


async def test_the_automated_block_is_audited_and_can_be_undone(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    await outcomes(http, [failed_login(ATTACKER, f"u{n}") for n in range(10)])
    await stack.drain()
    [entry] = (await http.get("/security/audit", headers=READ)).json()["entries"]
    assert (entry["actor"], entry["action"], entry["target"]) == ("auto", "block", ATTACKER)
    assert "credential_stuffingx1" in entry["reason"]
    undo = await http.post(f"/security/audit/{entry['id']}/undo", headers=ADMIN)
    assert undo.status_code == 200 and undo.json()["block"]["active"] is False
    check = await http.post("/security/check", headers=INGEST, json={"ip": ATTACKER})
    assert check.json()["action"] == "allow"
    again = await http.post(f"/security/audit/{entry['id']}/undo", headers=ADMIN)
    assert again.status_code == 409


async def test_one_account_failing_from_many_sources_is_credential_stuffing_too(
    http: httpx.AsyncClient,
) -> None:
    items = [failed_login(f"203.0.113.{n}", "victim@example.com") for n in range(1, 11)]
    answer = await outcomes(http, items)
    [anomaly] = answer["anomalies"]  # type: ignore[misc]
    assert anomaly["detail"]["direction"] == "one account, many sources"
    assert anomaly["detail"]["sources"] == 10
    events = (await http.get("/security/events?type=credential_stuffing", headers=READ)).json()
    assert [e["ip"] for e in events["events"]] == ["203.0.113.10"]
    assert "victim" not in str(events)  # the account is never stored in clear


async def test_a_burst_of_client_errors_is_scanning(http: httpx.AsyncClient) -> None:
    items = [{"ip": ATTACKER, "status": 404, "path": f"/admin{n}.php"} for n in range(25)]
    answer = await outcomes(http, items)
    [anomaly] = answer["anomalies"]  # type: ignore[misc]
    assert anomaly["type"] == "scanning"
    assert anomaly["detail"]["client_errors_per_minute"] == 20
    assert anomaly["detail"]["samples"] == 0
    assert anomaly["detail"]["subject"] == "ip"


async def test_a_signed_in_user_erring_from_many_addresses_is_scanning(
    http: httpx.AsyncClient,
) -> None:
    # Twenty-five 404s, each from its own address: no source errs enough; the user does.
    items = [
        {"ip": f"203.0.113.{n + 1}", "status": 404, "path": f"/api/x{n}", "user_id": "u-9"}
        for n in range(25)
    ]
    answer = await outcomes(http, items)
    [anomaly] = answer["anomalies"]  # type: ignore[misc]
    assert anomaly["type"] == "scanning"
    assert anomaly["detail"]["subject"] == "user"
    assert anomaly["detail"]["client_errors_per_minute"] == 20
    events = (await http.get("/security/events?user_id=u-9", headers=READ)).json()["events"]
    assert [(e["type"], e["ip"]) for e in events] == [("scanning", "203.0.113.20")]


async def test_a_users_ordinary_errors_are_not_scanning(http: httpx.AsyncClient) -> None:
    # 30 client errors among 70 answers in a minute, from many addresses: past the floor of
    # 20, but under half of the user's answers - a clumsy client, not a scan.
    items = [
        {"ip": f"203.0.113.{n + 1}", "status": 404 if n % 7 < 3 else 200, "user_id": "u-10"}
        for n in range(70)
    ]
    answer = await outcomes(http, items)
    assert answer["anomalies"] == []


async def test_bad_outcomes_are_rejected_one_by_one(http: httpx.AsyncClient) -> None:
    answer = await outcomes(
        http,
        [
            {"ip": "x", "status": 200},
            {"ip": ATTACKER, "status": 200},
            {"ip": ATTACKER, "status": 99},
        ],
    )
    assert answer["accepted"] == 1
    assert [r["index"] for r in answer["rejected"]] == [0, 2]  # type: ignore[union-attr]
