"""Shared pieces of the alerting Worker's tests: tokens, clock origin, configurations, helpers."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.receiver import QuietHandler, serving

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "workers" / "alerting" / "src"
if str(SOURCE) not in sys.path:
    sys.path.insert(0, str(SOURCE))

TOKENS = {"OBS_INGEST_TOKEN": "i-tok", "OBS_READ_TOKEN": "r-tok", "OBS_ADMIN_TOKEN": "a-tok"}
INGEST = {"authorization": "Bearer i-tok"}
READ = {"authorization": "Bearer r-tok"}
ADMIN = {"authorization": "Bearer a-tok"}
# 2026-03-02T09:00:00Z, a Monday morning: a readable origin for scripted scenarios.
START = datetime(2026, 3, 2, 9, tzinfo=UTC).timestamp()
START_MS = int(START * 1000)
PD_KEY = "R0123456789ABCDEF0123456789ABCDE"  # 32 characters, like an integration key


def at(seconds: float) -> str:
    """RFC 3339 of START + seconds, as the API prints instants."""
    moment = datetime.fromtimestamp(START + seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def event(name: str = "HighErrorRate", **fields: Any) -> dict[str, Any]:
    return {"name": name, "severity": "critical", "labels": {"service": "api"}, **fields}


async def configure(http: httpx.AsyncClient, document: dict[str, Any]) -> dict[str, Any]:
    reply = await http.put("/alerts/config", json=document, headers=ADMIN)
    assert reply.status_code == 200, reply.text
    result: dict[str, Any] = reply.json()
    return result


async def raise_alerts(http: httpx.AsyncClient, *events: dict[str, Any]) -> dict[str, Any]:
    reply = await http.post("/alerts/events", json=list(events), headers=INGEST)
    assert reply.status_code == 202, reply.text
    result: dict[str, Any] = reply.json()
    return result


def bodies(requests: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in requests]


def fingerprint(name: str, labels: dict[str, str]) -> str:
    from obs_schema.models.alert import fingerprint as compute

    return compute(name, labels)


@dataclass
class Echo:
    """A provider that answers every request with `status` and echoes the whole request back
    (path, headers, body) in its answer, as careless proxies and APIs do: the worst case for
    a secret leaking into an error text."""

    url: str
    status: int = 400
    delay_s: float = 0.0


@contextmanager
def echo_server() -> Iterator[Echo]:
    state = Echo(url="")

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            time.sleep(state.delay_s)
            reply = f"{self.path}\n{self.headers}\n".encode() + body
            try:
                self.send_response(state.status)
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except OSError:
                pass  # the client gave up (timeout test)

    with serving(Handler) as url:
        state.url = url
        yield state
