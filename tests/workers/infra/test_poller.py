"""The Cloudflare GraphQL Analytics poller against a local server answering as Cloudflare does.

The recorded answer follows the response shape of Cloudflare's docs (Querying Workers Metrics
with GraphQL; KV, R2 and Durable Objects metrics and analytics): `data.viewer.accounts[0]` with
one list of groups per dataset, each group holding `dimensions`, `sum`, `quantiles` or `max`,
and `errors: null`. Errors come as `{"data": null, "errors": [{"message", "path", ...}]}`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from infra import cfanalytics
from infra.samples import Batch
from localedge.clock import ManualClock
from localedge.stack import Stack, StackOptions
from tests.stacks import gateway_client
from tests.workers.infra.analytics_server import AnalyticsServer, analytics_server
from tests.workers.infra.helpers import READ, ROOT, TOKENS, fresh_telemetry

AT = "2025-12-31T23:50:00Z"
NAMESPACE = "0f2ac74b498b48028cb68387c421e279"


def worker_group(status: str, colo: str | None, requests: int, errors: int) -> dict[str, Any]:
    dimensions = {"datetimeFiveMinutes": AT, "scriptName": "pitchey-api", "status": status}
    if colo is not None:
        dimensions["coloCode"] = colo
    return {
        "dimensions": dimensions,
        "quantiles": {"cpuTimeP50": 206, "cpuTimeP99": 1830.5, "wallTimeP50": 12000,
                      "wallTimeP99": 95000},
        "sum": {"errors": errors, "requests": requests, "subrequests": requests * 2},
    }  # fmt: skip


def answer(colo: bool = True) -> dict[str, Any]:
    at = {"datetimeFiveMinutes": AT}
    return {
        "data": {"viewer": {"accounts": [{
            "workersInvocationsAdaptive": [
                worker_group("success", "LHR" if colo else None, 1200, 0),
                worker_group("scriptThrewException", "LHR" if colo else None, 3, 3),
            ] + ([worker_group("success", "SJC", 400, 0)] if colo else []),
            "kvOperationsAdaptiveGroups": [
                {"dimensions": {**at, "namespaceId": NAMESPACE, "actionType": "read"},
                 "sum": {"requests": 5000}, "quantiles": {"latencyMsP50": 1.5, "latencyMsP99": 12}},
                {"dimensions": {**at, "namespaceId": NAMESPACE, "actionType": "write"},
                 "sum": {"requests": 40}, "quantiles": {"latencyMsP50": 30, "latencyMsP99": 210}},
            ],
            "r2OperationsAdaptiveGroups": [
                {"dimensions": {**at, "bucketName": "pitchey-media", "actionType": "GetObject",
                                "actionStatus": "success"}, "sum": {"requests": 800}},
                {"dimensions": {**at, "bucketName": "pitchey-media", "actionType": "PutObject",
                                "actionStatus": "userError"}, "sum": {"requests": 2}},
            ],
            "r2StorageAdaptiveGroups": [
                {"dimensions": {"datetime": "2025-12-31T23:52:13Z", "bucketName": "pitchey-media"},
                 "max": {"objectCount": 1200, "payloadSize": 5368709120, "metadataSize": 1048576}},
            ],
            "durableObjectsInvocationsAdaptiveGroups": [
                {"dimensions": {**at, "scriptName": "pitchey-api", "namespaceId": "a1b2c3"},
                 "sum": {"requests": 640}},
            ],
        }]}},
        "errors": None,
    }  # fmt: skip


def test_the_answer_maps_to_series_per_script_status_colo_namespace_and_bucket() -> None:
    batch = Batch()
    counts = cfanalytics.add_answer(batch, cfanalytics.account_data(answer()))
    assert counts == {
        "workersInvocationsAdaptive": 3, "kvOperationsAdaptiveGroups": 2,
        "r2OperationsAdaptiveGroups": 2, "r2StorageAdaptiveGroups": 1,
        "durableObjectsInvocationsAdaptiveGroups": 1,
    }  # fmt: skip
    stored = {(e["n"], e["l"]): e["p"][0][2] for e in batch.entries.values()}
    lhr = '{"colo":"LHR","script":"pitchey-api","status":"success"}'
    assert stored[("cloudflare_workers_requests", lhr)] == 1200.0
    assert stored[("cloudflare_workers_cpu_time_p99_seconds", lhr)] == pytest.approx(0.0018305)
    assert stored[("cloudflare_workers_wall_time_p50_seconds", lhr)] == pytest.approx(0.012)
    read = json.dumps({"action": "read", "namespace": NAMESPACE}, separators=(",", ":"))
    assert stored[("cloudflare_kv_operations", read)] == 5000.0
    assert stored[("cloudflare_kv_latency_p99_seconds", read)] == pytest.approx(0.012)
    bucket = '{"bucket":"pitchey-media"}'
    assert stored[("cloudflare_r2_storage_bytes", bucket)] == 5368709120 + 1048576
    assert stored[("cloudflare_r2_objects", bucket)] == 1200.0
    assert (
        stored[("cloudflare_do_requests", '{"namespace":"a1b2c3","script":"pitchey-api"}')] == 640
    )


@pytest.mark.parametrize(
    "reply",
    [
        {"data": None, "errors": [{"message": "not authorized for that account",
                                   "path": ["viewer", "accounts", "0"]}]},
        {"data": {"viewer": {"accounts": []}}, "errors": None},
        ["not", "an", "object"],
    ],
)  # fmt: skip
def test_errors_and_empty_answers_raise(reply: Any) -> None:
    with pytest.raises(cfanalytics.AnalyticsError):
        cfanalytics.account_data(reply)


@pytest.fixture
def server() -> Iterator[AnalyticsServer]:
    with analytics_server() as running:
        yield running


@pytest.fixture
async def configured(tmp_path: Path, server: AnalyticsServer) -> AsyncIterator[Stack]:
    secrets = {**TOKENS, "CF_ACCOUNT_ID": "acc123", "CF_API_TOKEN": "cf-token",
               "CF_GRAPHQL_URL": server.url}  # fmt: skip
    stack = Stack(StackOptions(root=ROOT, data_dir=tmp_path / "d", clock=ManualClock(),
                               secrets=secrets))  # fmt: skip
    await stack.start(run_timers=False)
    fresh_telemetry(stack)
    yield stack
    await stack.close()


async def chart(stack: Stack, metric: str, **params: str) -> list[dict[str, Any]]:
    async with gateway_client(stack, "http://x") as http:
        reply = await http.get(
            "/infra/timeseries",
            params={"metric": metric, "since": "30m", "step": "5m", "fn": "sum", **params},
            headers=READ,
        )
    assert reply.status_code == 200, reply.text
    return list(reply.json()["series"])


def at_2350(series: dict[str, Any]) -> float | None:
    return dict(map(tuple, series["points"]))["2025-12-31T23:50:00.000Z"]


@pytest.mark.anyio
async def test_a_poll_asks_for_the_window_and_stores_the_answer(
    configured: Stack, server: AnalyticsServer
) -> None:
    server.answers.append((200, answer()))
    assert await configured.trigger_cron("*/5 * * * *", worker="obs-infra") == ["obs-infra"]
    (sent,) = server.requests
    assert sent["headers"]["authorization"] == "Bearer cf-token"
    assert sent["json"]["variables"] == {
        "accountTag": "acc123", "start": "2025-12-31T23:25:00Z", "end": "2025-12-31T23:55:00Z",
    }  # fmt: skip
    assert cfanalytics.dataset_names(sent["json"]) == list(cfanalytics.DATASETS)
    by_colo = await chart(configured, "cloudflare_workers_requests", by="colo")
    assert {s["labels"]["colo"]: at_2350(s) for s in by_colo} == {"LHR": 1203.0, "SJC": 400.0}
    errors = await chart(configured, "cloudflare_workers_errors", by="script")
    assert [at_2350(s) for s in errors] == [3.0]
    r2 = await chart(configured, "cloudflare_r2_operations", labels="status=userError")
    assert [at_2350(s) for s in r2] == [2.0]

    server.answers.append((200, answer()))  # the same window polled again: no double count
    configured.clock.set(configured.clock.now() + 300)  # type: ignore[attr-defined]
    await configured.trigger_cron("*/5 * * * *", worker="obs-infra")
    assert server.requests[1]["json"]["variables"]["start"] == "2025-12-31T23:55:00Z"
    again = await chart(configured, "cloudflare_workers_requests", by="colo")
    assert {s["labels"]["colo"]: at_2350(s) for s in again} == {"LHR": 1203.0, "SJC": 400.0}


@pytest.mark.anyio
async def test_a_schema_without_colo_is_polled_again_without_it(
    configured: Stack, server: AnalyticsServer
) -> None:
    refusal = {"data": None, "errors": [{"message": 'unknown field "coloCode"',
                                         "path": ["viewer", "accounts", "0"]}]}  # fmt: skip
    server.answers += [(400, refusal), (200, answer(colo=False))]
    await configured.trigger_cron("*/5 * * * *", worker="obs-infra")
    assert ["coloCode" in r["json"]["query"] for r in server.requests] == [True, False]
    series = await chart(configured, "cloudflare_workers_requests")
    assert sorted(at_2350(s) or 0 for s in series) == [3.0, 1200.0]


@pytest.mark.anyio
async def test_a_refused_token_keeps_the_window_for_the_next_poll(
    configured: Stack, server: AnalyticsServer
) -> None:
    refusal = {"data": None, "errors": [{"message": "not authorized for that account"}]}
    server.answers += [(403, refusal), (200, answer())]
    await configured.trigger_cron("*/5 * * * *", worker="obs-infra")
    status = await configured.kv["obs-config"].get("infra:graphql:status", "json")
    assert status == {"ok": False, "at_ms": 1_767_225_600_000,
                      "error": "not authorized for that account"}  # fmt: skip
    await configured.trigger_cron("*/5 * * * *", worker="obs-infra")
    starts = [r["json"]["variables"]["start"] for r in server.requests]
    assert starts == ["2025-12-31T23:25:00Z", "2025-12-31T23:25:00Z"]


@pytest.mark.anyio
async def test_without_credentials_nothing_is_polled(stack: Stack) -> None:
    from infra import poller

    assert await poller.poll(stack.worker("obs-infra").env, 1_767_225_600_000) is None
