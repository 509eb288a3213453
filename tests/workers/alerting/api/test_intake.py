"""Ways in over HTTP: `/alerts/events` (partial acceptance, auth, limits) and the Alertmanager
API v2 that a real Prometheus posts to."""

from __future__ import annotations

import httpx
import pytest

from localedge.stack import Stack
from tests.workers.alerting.support import ADMIN, INGEST, READ, at, event, fingerprint

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [({}, 401, "unauthorized"), (READ, 403, "forbidden"), (INGEST, 202, None), (ADMIN, 202, None)],
)
async def test_raising_alerts_needs_an_ingest_token(
    http: httpx.AsyncClient, headers: dict[str, str], status: int, code: str | None
) -> None:
    reply = await http.post("/alerts/events", json=event(), headers=headers)
    assert reply.status_code == status
    if code:
        assert reply.json()["error"]["code"] == code


async def test_good_events_are_kept_when_others_in_the_batch_are_bad(
    http: httpx.AsyncClient,
) -> None:
    batch = {
        "events": [
            event(),
            {"name": "", "severity": "critical"},
            "not an object",
            event("Other", severity="loud", annotations={"runbook_url": "javascript:alert(1)"}),
            event("Third", labels={"service": "web"}, annotations={"summary": "x"}),
        ]
    }
    reply = await http.post("/alerts/events", json=batch, headers=INGEST)
    assert reply.status_code == 202
    body = reply.json()
    assert body["accepted"] == 2
    assert [r["index"] for r in body["rejected"]] == [1, 2, 3]
    assert body["rejected"][1] == {"index": 2, "error": "an event must be a JSON object"}
    assert "javascript" not in reply.text  # rejected values are never echoed
    names = sorted(a["name"] for a in (await http.get("/alerts", headers=READ)).json()["alerts"])
    assert names == ["HighErrorRate", "Third"]


async def test_a_batch_with_nothing_valid_is_a_422_and_too_many_is_a_413(
    http: httpx.AsyncClient,
) -> None:
    reply = await http.post("/alerts/events", json=[{"severity": "critical"}], headers=INGEST)
    assert reply.status_code == 422
    error = reply.json()["error"]
    assert (error["code"], error["details"]) == (
        "validation_failed",
        [{"index": 0, "error": "name: Field required"}],
    )
    huge = await http.post("/alerts/events", json=[event()] * 1001, headers=INGEST)
    assert (huge.status_code, huge.json()["error"]["code"]) == (413, "payload_too_large")
    broken = await http.post(
        "/alerts/events", content=b"{nope", headers={**INGEST, "content-type": "application/json"}
    )
    assert (broken.status_code, broken.json()["error"]["code"]) == (400, "invalid_json")


async def test_a_resolved_event_resolves_and_a_new_firing_one_starts_a_new_episode(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    fp = fingerprint("HighErrorRate", {"service": "api"})
    await http.post("/alerts/events", json=event(), headers=INGEST)
    await stack.advance(60)
    await http.post("/alerts/events", json=event(status="resolved"), headers=INGEST)
    resolved = (await http.get(f"/alerts/{fp}", headers=READ)).json()
    shown = (resolved["status"], resolved["ends_at"], resolved["resolved_by"], resolved["episode"])
    assert shown == ("resolved", at(60), "api", 1)
    await stack.advance(60)
    await http.post("/alerts/events", json=event(), headers=INGEST)
    again = (await http.get(f"/alerts/{fp}", headers=READ)).json()
    assert (again["status"], again["starts_at"], again["episode"], again["incident_id"]) == (
        "firing", at(120), 2, 2,
    )  # fmt: skip


async def test_prometheus_alerts_are_taken_with_alertmanager_fingerprints(
    http: httpx.AsyncClient,
) -> None:
    labels = {"alertname": "InstanceDown", "instance": "web-1", "job": "node", "severity": "page"}
    alerts = [
        {
            "labels": labels,
            "annotations": {"summary": "web-1 down", "runbook_url": "https://r/x"},
            "generatorURL": "http://prom/g",
        },
        {"labels": {"job": "node"}},
        {"labels": {"alertname": "Gone", "instance": "a"}, "startsAt": at(-600), "endsAt": at(-60)},
    ]
    reply = await http.post("/api/v2/alerts", json=alerts, headers=INGEST)
    assert reply.status_code == 400
    assert reply.json()["error"]["details"] == [
        {"index": 1, "error": "labels.alertname is required"}
    ]
    from obs_schema.models.alert import labelset_fingerprint

    fp = labelset_fingerprint(labels)
    mine = (await http.get(f"/alerts/{fp}", headers=READ)).json()
    assert (mine["name"], mine["severity"], mine["labels"], mine["generator_url"]) == (
        "InstanceDown", "warning", labels, "http://prom/g",
    )  # fmt: skip
    assert mine["expires_at"] == at(300)  # no endsAt: now + resolve_timeout (5m)
    listed = (await http.get("/api/v2/alerts", headers=READ)).json()
    assert [(a["fingerprint"], a["status"]["state"], a["endsAt"]) for a in listed] == [
        (fp, "active", at(300))
    ]
    assert listed[0]["receivers"] == [{"name": "default"}]
    assert listed[0]["annotations"] == {"summary": "web-1 down", "runbook_url": "https://r/x"}
    not_array = await http.post("/api/v2/alerts", json={"labels": {}}, headers=INGEST)
    assert not_array.status_code == 400


async def test_other_workers_raise_alerts_over_the_service_binding(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    from obs_schema import alertsink
    from obs_schema.models.alert import AlertEvent

    env = stack.worker("obs-apm").env
    sent = AlertEvent(name="LatencyHigh", severity="error", labels={"service": "api"}, source="apm")
    assert await alertsink.send_alerts(env, [sent]) is True
    reply = await env.ALERTING.receive_alerts([sent.model_dump(mode="json"), {"name": 5}])
    assert reply == {
        "accepted": 1,
        "rejected": [{"index": 1, "error": "name: Input should be a valid string"}],
    }
    [alert] = (await http.get("/alerts", headers=READ)).json()["alerts"]
    assert (alert["name"], alert["source"], alert["received"]) == ("LatencyHigh", "apm", 2)
    assert await env.ALERTING.snapshot() == {"firing": 1, "acknowledged": 0, "open_incidents": 1}
