"""An intake batch leaves the hub exactly as its events taken one call at a time would.

New episodes of a batch start together, in a few set-wise statements (`_start_many`); one
event at a time takes the plain per-alert path. Both hubs see the same seeded events at the
same instants, and every table must end up identical, row for row.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from alerting.hub import schema
from alerting.hub.core import HubCore
from alerting.intake import validate
from localedge.storage import DurableObjectStorage
from obs_schema import host
from tests.workers.alerting.support import START

pytestmark = pytest.mark.anyio
TABLES = [
    statement.split("EXISTS ")[1].split()[0]
    for statement in schema.STATEMENTS
    if statement.startswith("CREATE TABLE")
]
ROUTED = {
    "route": {
        "receiver": "default",
        "group_by": ["alertname"],
        "routes": [
            {"matchers": ['service=~"api|web"'], "receiver": "front", "continue": True},
            {"match": {"severity": "critical"}, "receiver": "pager", "group_by": ["service"]},
        ],
    },
    "receivers": [{"name": "default"}, {"name": "front"}, {"name": "pager"}],
}
ESCALATING = {
    "route": {"receiver": "quiet", "routes": [{"match": {"service": "db"}, "escalation": "up"}]},
    "receivers": [{"name": "quiet"}, {"name": "team"}],
    "escalation_policies": [
        {"name": "up", "levels": [{"delay": "5m", "targets": [{"receiver": "team"}]}]}
    ],
}


@pytest.fixture
def clock() -> Iterator[list[float]]:
    now = [START]
    host.install(clock=lambda: now[0])
    yield now
    host.reset()


def hub(path: Path) -> tuple[HubCore, DurableObjectStorage]:
    storage = DurableObjectStorage(path)
    return HubCore(storage, SimpleNamespace(OBS_PUBLIC_URL="https://obs.example.com")), storage


def tables(storage: DurableObjectStorage) -> dict[str, list[str]]:
    found = {}
    for table in TABLES:
        rows = storage.sql.exec(f"SELECT * FROM {table}").toArray()  # noqa: S608
        if table == "settings":
            rows = [row for row in rows if row["name"] != "link_key"]  # a random key each
        found[table] = sorted(repr(sorted(row.items())) for row in rows)
    return found


def events(rng: random.Random) -> list[dict[str, Any]]:
    batch = []
    for _ in range(rng.randint(1, 9)):
        event: dict[str, Any] = {
            "name": rng.choice(["LogCritical", "LogErrorBurst", "HighLatency"]),
            "severity": rng.choice(["critical", "error", "warning"]),
            "labels": {"service": rng.choice(["api", "web", "db", "auth"])},
            "annotations": {"summary": rng.choice(["", "it broke", "it is slow"])},
            "status": rng.choice(["firing"] * 6 + ["resolved"]),
        }
        if rng.random() < 0.2:
            event["ends_at"] = int(START * 1000) + 3_600_000  # some expire later on
        batch.append(event)
    return batch


@pytest.mark.parametrize("config", [None, ROUTED, ESCALATING], ids=["default", "routed", "esc"])
async def test_a_batch_leaves_the_state_one_event_at_a_time_would(
    tmp_path: Path, clock: list[float], config: dict[str, Any] | None
) -> None:
    batched, batched_storage = hub(tmp_path / "batched.sqlite")
    single, single_storage = hub(tmp_path / "single.sqlite")
    if config is not None:
        for core in (batched, single):
            assert "error" not in await core.call("put_config", {"document": config})
    rng = random.Random(11)
    opened_batched, opened_single = [], []
    for _ in range(60):
        clock[0] += rng.choice([0, 1, 60, 900])
        accepted, rejected = validate(events(rng))
        assert rejected == []
        result = await batched.call("ingest", {"events": accepted})
        opened_batched += result["opened_incidents"]
        for event in accepted:
            result = await single.call("ingest", {"events": [event]})
            opened_single += result["opened_incidents"]
    assert opened_batched == opened_single
    state = tables(batched_storage)
    assert state == tables(single_storage)
    # The run went through new episodes, duplicates, resolutions and incidents.
    assert len(state["alerts"]) >= 10 and len(state["incidents"]) >= 3
    assert any("'resolved'" in row for row in state["alerts"])
    assert any("('received', 1)" not in row for row in state["alerts"])
    batched_storage.close()
    single_storage.close()
