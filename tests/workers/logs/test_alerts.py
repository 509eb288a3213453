"""Critical records and error bursts reach the alerting Worker over its service binding, once."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from localedge.clock import ManualClock
from localedge.stack import Stack
from logs import alerts
from logs.settings import Settings
from tests.workers.logs.helpers import TRACE, ingest

pytestmark = pytest.mark.anyio
T = 1_795_773_600_000


class Spy:
    """Wraps the real ALERTING binding: records what is sent, forwards it unchanged."""

    def __init__(self, binding: Any) -> None:
        self.binding = binding
        self.sent: list[dict[str, Any]] = []
        self.replies: list[Any] = []

    async def receive_alerts(self, events: list[dict[str, Any]]) -> Any:
        self.sent += events
        reply = await self.binding.receive_alerts(events)
        self.replies.append(reply)
        return reply


@pytest.fixture
def spy(stack: Stack) -> Spy:
    env = stack.worker("obs-logs").env
    wrapped = Spy(env.ALERTING)
    env._values["ALERTING"] = wrapped  # the Env is read-only to Workers, not to the test
    return wrapped


async def test_a_fatal_record_raises_one_critical_alert_with_its_context(
    http: httpx.AsyncClient, stack: Stack, spy: Spy, clock: ManualClock
) -> None:
    fatal = {
        "message": "ledger corrupted for account 42",
        "service": "billing",
        "level": "fatal",
        "trace_id": TRACE,
    }
    await ingest(http, [fatal, {"message": "fine", "service": "billing"}])
    await stack.drain()
    (alert,) = spy.sent
    assert alert["name"] == "LogCritical" and alert["severity"] == "critical"
    assert alert["source"] == "logs" and alert["labels"]["service"] == "billing"
    assert alert["annotations"]["trace_id"] == TRACE
    assert (
        alert["annotations"]["summary"] == "billing logged fatal: ledger corrupted for account 42"
    )
    links = [link["url"] for link in alert["annotations"]["links"]]
    assert links == [
        "http://127.0.0.1:8787/logs/query?service=billing&level=error&since=2026-11-27T09%3A55%3A00.000Z",
        f"http://127.0.0.1:8787/logs/trace/{TRACE}",
    ]
    assert spy.replies == [{"accepted": 1, "rejected": []}]  # the real alerting Worker took it
    clock.advance(60)
    await ingest(http, [{**fatal, "message": "ledger corrupted for account 43"}])
    await stack.drain()
    assert len(spy.sent) == 1  # same service and fingerprint: deduplicated


async def test_an_error_burst_from_one_service_alerts_once(
    http: httpx.AsyncClient, stack: Stack, spy: Spy, clock: ManualClock
) -> None:
    errors = [
        {"message": f"timeout talking to db after {i}ms", "service": "api", "level": "error"}
        for i in range(60)
    ]
    await ingest(http, errors)
    await stack.drain()
    assert spy.sent == []  # 60 < 100 within 5 minutes
    clock.advance(60)
    await ingest(http, errors)
    await stack.drain()
    (alert,) = spy.sent
    assert alert["name"] == "LogErrorBurst" and alert["severity"] == "error"
    assert alert["annotations"]["summary"] == "api logged 120 errors in 5 min"
    clock.advance(60)
    await ingest(http, errors)
    await stack.drain()
    assert len(spy.sent) == 1


class HeldGate:
    """A gate stub whose first decision waits until released; it records every question."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []
        self.deciding = asyncio.Event()
        self.release = asyncio.Event()

    def getByName(self, name: str) -> HeldGate:
        return self

    async def decide(self, question: dict[str, Any], now_ms: int, policy: Any) -> list[Any]:
        self.asked.append(question)
        self.deciding.set()
        await self.release.wait()
        return []  # nothing fires: this test is about what is asked, and how often


def error_rows(service: str, count: int) -> list[list[Any]]:
    return [[T, T, 5, service, None, None, "f" * 16, "boom", None, "http", "l"]] * count


async def test_checks_arriving_while_one_runs_are_merged_into_the_next() -> None:
    gate = HeldGate()
    env = SimpleNamespace(LOG_GATE=gate)
    first = asyncio.ensure_future(alerts.observe(env, error_rows("api", 1), Settings()))
    await gate.deciding.wait()
    queued = [
        asyncio.ensure_future(alerts.observe(env, error_rows("api", 2), Settings())),
        asyncio.ensure_future(alerts.observe(env, error_rows("web", 3), Settings())),
    ]
    for _ in range(5):
        await asyncio.sleep(0)
    returned_at_once = [task.done() for task in queued]  # they only left their groups
    gate.release.set()
    await asyncio.gather(first, *queued)
    assert returned_at_once == [True, True]
    assert [question["services"] for question in gate.asked] == [
        [["api", 1, "f" * 16]],
        [["api", 2, "f" * 16], ["web", 3, "f" * 16]],  # the two queued batches, as one
    ]
    await alerts.observe(env, error_rows("api", 4), Settings())  # idle again: asked at once
    assert gate.asked[-1]["services"] == [["api", 4, "f" * 16]]
