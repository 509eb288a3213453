"""`/monitoring/checks` through HTTP: scopes, validation with per-field 422s, private targets,
ids, secrets kept out of answers, declared checks read-only, pause and delete, paging results."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve

from localedge.stack import Stack
from tests.workers.monitoring.support import ADMIN, READ, Target

HTTP_CHECK = {"type": "http", "name": "Pitchey API", "url": "https://api.pitchey.com/health"}


async def post(http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await http.post("/monitoring/checks", json=body, headers=ADMIN)


HTTP = ["body", "http"]
INVALID = [
    ({"interval": 10}, HTTP, "interval must be at least 30 s"),
    ({"interval": "1m", "timeout": "1m"}, HTTP, "timeout must be more than 0 and less than"),
    ({"url": "ftp://api.pitchey.com/x"}, [*HTTP, "url"], "the URL scheme must be http or https"),
    ({"url": "https:///nohost"}, [*HTTP, "url"], "the URL needs a host and no spaces"),
    ({"confirmations": 0}, [*HTTP, "confirmations"], "greater than or equal to 1"),
    ({"interval": "soon"}, [*HTTP, "interval"], "invalid duration"),
    ({"intervall": 60}, [*HTTP, "intervall"], "Extra inputs are not permitted"),
    ({"json_assert": {"path": "a..b"}}, [*HTTP, "json_assert", "path"], "invalid path"),
    ({"type": "gopher"}, ["body"], "does not match any of the expected tags"),
    (
        {"maintenance": [{"start": "2026-03-02T02:00:00Z"}]},
        [*HTTP, "maintenance", "0"],
        "exactly start and end",
    ),
]


@pytest.mark.anyio
async def test_invalid_checks_get_a_422_naming_the_field(http: httpx.AsyncClient) -> None:
    # One stack for the whole table: each case is an independent request.
    for change, loc, message in INVALID:
        reply = await post(http, {**HTTP_CHECK, **change})
        assert reply.status_code == 422, change
        error = reply.json()["error"]
        assert error["code"] == "validation_failed"
        found = [d for d in error["details"] if d["loc"] == loc and message in d["message"]]
        assert found, (change, error)


PRIVATE = [
    "http://10.0.0.8/",
    "http://169.254.169.254/latest/meta-data",
    "http://localhost:8080/",
    "http://2130706433/",
    "http://[::1]/",
]


@pytest.mark.anyio
async def test_private_targets_are_refused_where_the_deployment_forbids_them(
    http: httpx.AsyncClient, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        stack.worker("obs-monitoring").env._values, "MONITORING_ALLOW_PRIVATE_TARGETS", "false"
    )
    for url in PRIVATE:
        reply = await post(http, {**HTTP_CHECK, "url": url})
        assert reply.status_code == 422, url
        [detail] = reply.json()["error"]["details"]
        assert detail["loc"] == ["body", "url"] and detail["message"].startswith("target refused")
    tcp = await post(http, {"type": "tcp", "name": "db", "host": "192.168.1.5", "port": 5432})
    assert tcp.json()["error"]["details"][0]["loc"] == ["body", "host"]


@pytest.mark.anyio
async def test_the_local_stack_allows_loopback_targets_for_its_demo(
    http: httpx.AsyncClient, target: Target
) -> None:
    reply = await post(http, {**HTTP_CHECK, "url": target.url})
    assert reply.status_code == 201


SCOPES = [
    ("GET", "/monitoring/checks", {}, 401),
    ("POST", "/monitoring/checks", READ, 403),
    ("DELETE", "/monitoring/checks/x", READ, 403),
    ("POST", "/monitoring/checks/x/run", READ, 403),
    ("GET", "/monitoring/uptime", {}, 401),
    ("GET", "/monitoring/incidents", {}, 401),
    ("GET", "/monitoring/reports/sla", {}, 401),
    ("GET", "/monitoring/summary", {"authorization": "Bearer wrong"}, 401),
]


@pytest.mark.anyio
async def test_reading_needs_read_and_changing_needs_admin(http: httpx.AsyncClient) -> None:
    for method, path, headers, status in SCOPES:
        reply = await http.request(method, path, json=HTTP_CHECK, headers=headers)
        assert reply.status_code == status, (method, path)


@pytest.mark.anyio
async def test_create_read_replace_pause_and_delete_a_check(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    secret = {"authorization": "Bearer target-secret", "accept": "application/json"}
    created = await post(http, {**HTTP_CHECK, "id": "api", "headers": secret})
    assert created.status_code == 201
    body = created.json()
    assert body["id"] == "api" and body["source"] == "api"
    assert body["headers"] == {"authorization": "***", "accept": "application/json"}
    assert "target-secret" not in created.text
    assert (await post(http, {**HTTP_CHECK, "id": "api"})).status_code == 409

    listed = (await http.get("/monitoring/checks", headers=READ)).json()["checks"]
    assert "api" in [c["id"] for c in listed]

    changed = {**HTTP_CHECK, "name": "API", "headers": {**secret, "authorization": "***"}}
    changed["enabled"] = False
    reply = await http.put("/monitoring/checks/api", json=changed, headers=ADMIN)
    assert reply.status_code == 200 and reply.json()["name"] == "API"
    assert reply.json()["state"]["status"] == "paused"
    registry = stack.worker("obs-monitoring").env.REGISTRY.getByName("registry")
    stored = await registry.get("api")
    assert stored["spec"]["headers"]["authorization"] == "Bearer target-secret"  # kept

    assert (await http.delete("/monitoring/checks/api", headers=ADMIN)).status_code == 204
    gone = await http.get("/monitoring/checks/api", headers=READ)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"


@pytest.mark.anyio
async def test_an_id_is_derived_from_the_name_when_absent(http: httpx.AsyncClient) -> None:
    body = (await post(http, {**HTTP_CHECK, "name": "Pitchey Web App!"})).json()
    assert (
        body["id"].startswith("pitchey-web-app-") and len(body["id"]) == len("pitchey-web-app-") + 6
    )


@pytest.mark.anyio
async def test_declared_checks_exist_and_are_read_only(http: httpx.AsyncClient) -> None:
    listed = (await http.get("/monitoring/checks", headers=READ)).json()["checks"]
    declared = {c["id"]: c for c in listed if c["source"] == "file"}
    assert set(declared) == {
        "stack-config-kv", "stack-durable-objects", "stack-r2", "worker-logs", "worker-apm",
        "worker-infra", "worker-alerting", "worker-security",
    }  # fmt: skip
    assert declared["worker-logs"]["worker"] == "logs"
    reply = await http.delete("/monitoring/checks/stack-r2", headers=ADMIN)
    assert reply.status_code == 409 and "checks.toml" in reply.json()["error"]["message"]


@pytest.mark.anyio
async def test_internal_checks_round_trip_storage_and_reach_every_worker(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    await http.get("/monitoring/checks", headers=READ)
    await stack.advance(0)
    listed = (await http.get("/monitoring/checks", headers=READ)).json()["checks"]
    states = {c["id"]: c["state"]["status"] for c in listed if c["source"] == "file"}
    assert set(states.values()) == {"up"}, states


@pytest.mark.anyio
async def test_results_page_newest_first_with_a_cursor(
    http: httpx.AsyncClient, stack: Stack, target: Target
) -> None:
    await post(http, {**HTTP_CHECK, "id": "web", "url": target.url, "interval": 30})
    await stack.advance(150)  # runs at 0, 30, ... 150 s: six results
    first = (await http.get("/monitoring/checks/web/results?limit=4", headers=READ)).json()
    assert len(first["results"]) == 4 and first["cursor"]
    second = await http.get(
        f"/monitoring/checks/web/results?limit=4&cursor={first['cursor']}", headers=READ
    )
    times = [r["time"] for r in first["results"] + second.json()["results"]]
    assert times == sorted(times, reverse=True) and len(times) == 6
    assert second.json()["cursor"] is None
    bad = await http.get("/monitoring/checks/web/results?cursor=%%%", headers=READ)
    assert bad.status_code == 400


@pytest.mark.anyio
async def test_run_now_records_a_result_at_once(http: httpx.AsyncClient, target: Target) -> None:
    await post(http, {**HTTP_CHECK, "id": "web", "url": target.url, "keyword": "ok"})
    reply = await http.post("/monitoring/checks/web/run", headers=ADMIN)
    assert reply.status_code == 200
    result = reply.json()["result"]
    assert (result["ok"], result["status_code"], result["error"]) == (True, 200, None)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once the socket is closed


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    async def echo(connection: ServerConnection) -> None:
        async for message in connection:
            await connection.send(f"pong: {message}")

    async with serve(echo, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/live"


@pytest.mark.anyio
async def test_every_check_type_is_created_and_run_through_the_api(
    http: httpx.AsyncClient, target: Target, echo_url: str
) -> None:
    """TCP and WebSocket checks go through entry.py's socket connector, which the local
    runtime backs with real loopback sockets (as `cloudflare:sockets` does on Cloudflare)."""
    target.body = (
        b'{"Status": 0, "Answer": [{"name": "pitchey.com.", "type": 1, "data": "1.2.3.4"}]}'
    )
    kinds = [
        ({"type": "dns", "query": "pitchey.com", "resolver": target.url, "expected": "1.2.3.4"},
         True, None),
        ({"type": "database", "url": target.url, "json_assert": {"path": "Status", "value": 0}},
         True, None),
        ({"type": "internal", "target": "service", "worker": "security"}, True, None),
        ({"type": "tcp", "host": "127.0.0.1", "port": urlsplit(target.url).port}, True, None),
        ({"type": "tcp", "host": "127.0.0.1", "port": closed_port()}, False, "connection failed"),
        ({"type": "websocket", "url": echo_url, "send": "ping", "expect": "pong"}, True, None),
    ]  # fmt: skip
    for number, (fields, ok, error) in enumerate(kinds):
        body = {"id": f"kind-{number}", "name": f"kind {number}", **fields}
        created = await post(http, body)
        assert created.status_code == 201, created.text
        ran = (await http.post(f"/monitoring/checks/kind-{number}/run", headers=ADMIN)).json()
        got_error = ran["result"]["error"]
        assert ran["result"]["ok"] is ok, (fields, got_error)
        assert (got_error is None) if error is None else error in got_error, fields
