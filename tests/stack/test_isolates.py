"""`serve --isolates 2`: two processes serve HTTP on one port and share every Durable Object.

Each request below opens a connection of its own, so the kernel spreads them over both
processes; every answer says which isolate gave it (`x-localedge-isolate`)."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.stack.test_server import ROOT, server

pytestmark = pytest.mark.stack
TOKENS = {"OBS_INGEST_TOKEN": "iso-i", "OBS_READ_TOKEN": "iso-r", "OBS_ADMIN_TOKEN": "iso-a"}
INGEST = {"authorization": "Bearer iso-i"}
READ = {"authorization": "Bearer iso-r"}
ADMIN = {"authorization": "Bearer iso-a"}


def fresh(method: str, url: str, **options: object) -> httpx.Response:
    with httpx.Client() as client:  # a new connection, hashed to either process
        return client.request(method, url, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("objects", [(), ("--home-thread",)], ids=["in-loop", "home-thread"])
def test_two_isolates_answer_and_share_limits_and_stored_logs(
    tmp_path: Path, objects: tuple[str, ...]
) -> None:
    args = ("--isolates", "2", *objects)
    with server(ROOT, tmp_path / "data", TOKENS, args) as (url, printed):
        assert "2 isolate processes" in printed
        rule = {"id": "exact10", "key": ["ip"], "limit": 10, "window_s": 60, "mode": "exact"}
        reply = fresh("PUT", f"{url}/security/rules", json={"rate_limits": [rule]}, headers=ADMIN)
        assert reply.status_code == 200
        answered: dict[str, list[str]] = {"0": [], "1": []}
        for _ in range(40):
            check = {"ip": "198.51.100.7", "path": "/api/pitches"}
            reply = fresh("POST", f"{url}/security/check", json=check, headers=INGEST)
            answered[reply.headers["x-localedge-isolate"]].append(reply.json()["action"])
        assert answered["0"] and answered["1"], answered  # both processes took checks
        actions = answered["0"] + answered["1"]
        assert actions.count("allow") == 10  # one counter, in the one shard object

        record = {"level": "error", "message": "isolates share the shard", "service": "api"}
        assert (
            fresh("POST", f"{url}/logs/ingest", json=[record], headers=INGEST).json()["accepted"]
            == 1
        )
        found: set[str] = set()
        for _ in range(40):  # until both processes answered (each 1 in 2 per connection)
            reply = fresh("GET", f"{url}/logs/query", params={"q": "isolates"}, headers=READ)
            assert [r["message"] for r in reply.json()["logs"]] == [record["message"]]
            found.add(reply.headers["x-localedge-isolate"])
            if found == {"0", "1"}:
                break
        assert found == {"0", "1"}
    port = urlsplit(url).port
    assert port is not None
    with socket.create_server(("127.0.0.1", port)):  # no isolate still holds the port
        pass
