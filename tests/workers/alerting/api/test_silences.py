"""Silences over HTTP: the native routes and Alertmanager's API v2 routes (amtool's)."""

from __future__ import annotations

import httpx
import pytest

from localedge.stack import Stack
from tests.workers.alerting.support import ADMIN, READ, at

pytestmark = pytest.mark.anyio

SILENCE = {
    "matchers": [{"name": "service", "value": "api", "isRegex": False, "isEqual": True}],
    "startsAt": at(600),
    "endsAt": at(7200),
    "createdBy": "ops@pitchey.com",
    "comment": "deploy window",
}


async def test_a_silence_is_created_listed_updated_and_expired(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    assert (await http.post("/alerts/silences", json=SILENCE, headers=READ)).status_code == 403
    created = (await http.post("/alerts/silences", json=SILENCE, headers=ADMIN)).json()
    silence_id = created["silenceID"]
    assert created["silence"] == {
        "id": silence_id,
        "status": {"state": "pending"},
        "updatedAt": at(0),
        "matchers": SILENCE["matchers"],
        "matchers_text": ['service="api"'],
        "startsAt": at(600),
        "endsAt": at(7200),
        "createdBy": "ops@pitchey.com",
        "comment": "deploy window",
    }
    await stack.advance(600)
    assert [
        s["id"]
        for s in (await http.get("/alerts/silences?state=active", headers=READ)).json()["silences"]
    ] == [silence_id]
    updated = await http.post(
        "/alerts/silences", json={**SILENCE, "id": silence_id, "comment": "longer"}, headers=ADMIN
    )
    assert updated.json()["silenceID"] == silence_id
    assert (await http.get(f"/alerts/silences/{silence_id}", headers=READ)).json()[
        "comment"
    ] == "longer"
    expired = (await http.delete(f"/alerts/silences/{silence_id}", headers=ADMIN)).json()
    assert (expired["status"]["state"], expired["endsAt"]) == ("expired", at(600))
    again = await http.delete(f"/alerts/silences/{silence_id}", headers=ADMIN)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "conflict")
    unknown = await http.post("/alerts/silences", json={**SILENCE, "id": "nope"}, headers=ADMIN)
    assert unknown.status_code == 404
    invalid = await http.post("/alerts/silences", json={**SILENCE, "matchers": []}, headers=ADMIN)
    assert (invalid.status_code, invalid.json()["error"]["details"][0]["loc"]) == (
        422,
        ["matchers"],
    )


async def test_the_alertmanager_v2_silence_routes_work_as_amtool_uses_them(
    http: httpx.AsyncClient,
) -> None:
    reply = await http.post("/api/v2/silences", json=SILENCE, headers=ADMIN)
    assert reply.status_code == 200 and set(reply.json()) == {"silenceID"}
    silence_id = reply.json()["silenceID"]
    listed = (await http.get("/api/v2/silences", headers=READ)).json()
    assert [s["id"] for s in listed] == [silence_id]
    assert (await http.get(f"/api/v2/silence/{silence_id}", headers=READ)).json()[
        "createdBy"
    ] == "ops@pitchey.com"
    assert (await http.delete(f"/api/v2/silence/{silence_id}", headers=ADMIN)).status_code == 200
    assert (await http.get(f"/api/v2/silence/{silence_id}", headers=READ)).json()["status"][
        "state"
    ] == "expired"
