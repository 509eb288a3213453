"""Database checks: a health endpoint, or a D1 binding answering SELECT 1."""

from __future__ import annotations

from typing import Any

import pytest

from localedge.env import Env
from monitoring.probes import ProbeContext, run
from tests.workers.monitoring.support import Target


class Statement:
    def __init__(self, database: Database, sql: str) -> None:
        self.database, self.sql = database, sql

    async def first(self) -> dict[str, Any] | None:
        if self.database.broken:
            raise RuntimeError("D1_ERROR: database unavailable")
        self.database.queries.append(self.sql)
        return {"ok": 1}


class Database:
    """A D1 binding's query surface (`prepare().first()`); localedge emulates no D1."""

    def __init__(self, broken: bool = False) -> None:
        self.broken = broken
        self.queries: list[str] = []

    def prepare(self, sql: str) -> Statement:
        return Statement(self, sql)


def context(env: Any) -> ProbeContext:
    return ProbeContext(env=env, check_id="db", timeout_s=1.0, allow_private=True)


@pytest.mark.anyio
async def test_a_d1_binding_must_answer_select_1() -> None:
    database = Database()
    ok = await run({"type": "database", "binding": "DB"}, context(Env({"DB": database})))
    assert ok.ok and database.queries == ["SELECT 1 AS ok"]
    broken = await run({"type": "database", "binding": "DB"}, context(Env({"DB": Database(True)})))
    assert broken.error == "query failed: RuntimeError: D1_ERROR: database unavailable"
    missing = await run({"type": "database", "binding": "DB"}, context(Env({})))
    assert missing.error == "binding DB is not configured"


@pytest.mark.anyio
async def test_a_health_endpoint_is_judged_like_an_http_check(target: Target) -> None:
    target.body = b'{"database": {"connected": false}}'
    spec = {
        "type": "database",
        "url": target.url,
        "json_assert": {"path": "database.connected", "value": True},
    }
    outcome = await run(spec, context(None))
    assert outcome.error == "database.connected is false, expected eq true"
