"""Admins configure scrubbing per deployment, preview it, and it applies to ingest."""

from __future__ import annotations

import httpx
import pytest

from tests.workers.logs.helpers import ADMIN, MARK, READ, ingest, messages, query

pytestmark = pytest.mark.anyio

CONFIG = {
    "extra_patterns": {"pitch_code": "PITCH-[0-9]{6}"},
    "allow_keys": ["session_hint"],
    "sensitive_keys": ["x-pitchey-session"],
    "ip_mode": "truncate",
    "disabled": [],
}


async def test_the_scrubbing_configuration_round_trips_and_applies(http: httpx.AsyncClient) -> None:
    empty = await http.get("/logs/config/scrubbing", headers=ADMIN)
    assert empty.json() == {
        "extra_patterns": {},
        "allow_keys": [],
        "sensitive_keys": [],
        "ip_mode": "hash",
        "disabled": [],
    }
    put = await http.put("/logs/config/scrubbing", json=CONFIG, headers=ADMIN)
    assert put.status_code == 200 and put.json() == CONFIG
    assert (await http.get("/logs/config/scrubbing", headers=ADMIN)).json() == CONFIG
    await ingest(
        http,
        [
            {
                "message": "PITCH-123456 from 203.0.113.7 x-pitchey-session=abc session_hint=blue",
                "service": "api",
            }
        ],
    )
    assert messages(await query(http)) == [
        f"{MARK('pitch_code', 'PITCH-123456')} from 203.0.113.0/24 "
        f"x-pitchey-session={MARK('secret', 'abc')} session_hint=blue"
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"extra_patterns": {"bad": "("}}, "pattern 'bad' does not compile"),
        ({"ip_mode": "hide"}, "ip_mode must be one of"),
        ({"disabled": ["emails"]}, "unknown classes to disable: emails"),
    ],
)
async def test_unusable_configurations_are_refused(
    shared_http: httpx.AsyncClient, change: dict[str, object], message: str
) -> None:
    reply = await shared_http.put(
        "/logs/config/scrubbing", json={**CONFIG, **change}, headers=ADMIN
    )
    assert reply.status_code == 422 and reply.json()["error"]["message"].startswith(message)


async def test_a_preview_shows_what_would_be_stored(shared_http: httpx.AsyncClient) -> None:
    reply = await shared_http.post(
        "/logs/scrub", json={"text": "mail alice@example.com"}, headers=ADMIN
    )
    assert reply.json() == {"text": f"mail {MARK('email', 'alice@example.com')}"}


async def test_configuration_is_for_admins_only(shared_http: httpx.AsyncClient) -> None:
    http = shared_http
    assert (await http.get("/logs/config/scrubbing", headers=READ)).status_code == 403
    assert (await http.put("/logs/config/scrubbing", json=CONFIG, headers=READ)).status_code == 403
