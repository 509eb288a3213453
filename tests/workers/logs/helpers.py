"""Shared constants and small helpers of the logs Worker's tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx

from obs_schema.scrubbing import Scrubber, ScrubConfig

ROOT = Path(__file__).resolve().parents[3]
TOKENS = {
    "OBS_INGEST_TOKEN": "i-tok",
    "OBS_READ_TOKEN": "r-tok",
    "OBS_ADMIN_TOKEN": "a-tok",
    "OBS_SCRUB_KEY": "test-scrub-key",
}
# The marker the Worker gives a value, under the test deployment's key.
MARK = Scrubber(ScrubConfig(key=TOKENS["OBS_SCRUB_KEY"].encode())).marker
INGEST = {"authorization": "Bearer i-tok"}
READ = {"authorization": "Bearer r-tok"}
ADMIN = {"authorization": "Bearer a-tok"}
T0 = 1_795_773_600.0  # 2026-11-27T10:00:00Z
T0_MS = int(T0 * 1000)
TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"


async def ingest(http: httpx.AsyncClient, records: list[dict[str, Any]]) -> dict[str, Any]:
    reply = await http.post("/logs/ingest", json=records, headers=INGEST)
    assert reply.status_code == 202, reply.text
    return dict(reply.json())


async def query(http: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    reply = await http.get("/logs/query", params=params, headers=READ)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def messages(answer: dict[str, Any]) -> list[str]:
    return [record["message"] for record in answer["logs"]]


def raw_storage(data_dir: Path) -> str:
    """Every text value stored by the logs Worker's Durable Objects, concatenated."""
    texts = []
    for path in sorted((data_dir / "do" / "obs-logs").rglob("*.sqlite")):
        with sqlite3.connect(path) as conn:
            tables = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            for table in tables:
                for row in conn.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - test reads its own files
                    texts += [str(value) for value in row]
    return "\n".join(texts)
