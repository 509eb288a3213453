"""Aggregated health, the cached summary (with the other Workers' snapshots), the public status
page in HTML and JSON, and this Worker's own snapshot RPC."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from localedge.stack import Stack
from tests.workers.monitoring.support import ADMIN, READ, Target

COMPONENTS = {
    "CONFIG", "REGISTRY", "worker:logs", "worker:apm", "worker:infra", "worker:alerting",
    "worker:security", "checks",
}  # fmt: skip


@pytest.mark.anyio
async def test_health_is_overall_only_without_a_token_and_detailed_with_one(
    http: httpx.AsyncClient,
) -> None:
    public = await http.get("/monitoring/health")
    assert public.status_code == 200
    assert set(public.json()) == {"status", "worker", "version", "time"}
    assert public.json()["status"] == "healthy"
    detail = (await http.get("/monitoring/health", headers=READ)).json()
    assert set(detail["components"]) == COMPONENTS
    assert detail["components"]["CONFIG"] == {
        **detail["components"]["CONFIG"], "status": "healthy", "kind": "kv", "critical": True,
    }  # fmt: skip
    assert all(c["latency_ms"] is not None for c in detail["components"].values())
    assert (
        await http.get("/monitoring/health", headers={"authorization": "Bearer x"})
    ).status_code == 401


@pytest.mark.anyio
async def test_checks_that_are_down_degrade_health_and_all_down_is_unhealthy(
    http: httpx.AsyncClient, stack: Stack, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    target.status = 500
    await http.post("/monitoring/checks", headers=ADMIN, json={
        "type": "http", "id": "api", "name": "API", "url": target.url, "confirmations": 1,
    })  # fmt: skip
    await stack.advance(0)
    degraded = (await http.get("/monitoring/health", headers=READ)).json()
    assert degraded["status"] == "degraded"
    assert degraded["components"]["checks"]["detail"] == "9 checks: 1 down, 0 degraded"

    async def broken(self: Any, *args: Any) -> str:
        raise RuntimeError("storage offline")

    module = stack.worker("obs-monitoring").module
    monkeypatch.setattr(module.Registry, "echo", broken)
    reply = await http.get("/monitoring/health")
    assert reply.status_code == 503 and reply.json()["status"] == "unhealthy"


@pytest.mark.anyio
async def test_the_summary_gathers_every_worker_tolerating_missing_snapshots(
    http: httpx.AsyncClient, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = stack.worker("obs-apm").module

    class WithSnapshot(module.Default):  # type: ignore[misc, name-defined]
        async def snapshot(self) -> dict[str, Any]:
            return {"requests_5m": 1200, "error_rate_5m": 0.02, "p95_ms_5m": 180.5}

    monkeypatch.setattr(module, "Default", WithSnapshot)
    await stack.trigger_cron("* * * * *", "obs-monitoring")
    summary = (await http.get("/monitoring/summary", headers=READ)).json()
    assert summary["generated_at"] == "2026-03-02T00:00:00.000Z" and summary["age_s"] == 0.0
    assert summary["workers"]["apm"] == {
        "available": True, "error": None,
        "snapshot": {"requests_5m": 1200, "error_rate_5m": 0.02, "p95_ms_5m": 180.5},
    }  # fmt: skip
    assert summary["key_numbers"]["error_rate_5m"] == 0.02
    assert summary["key_numbers"]["p95_ms_5m"] == 180.5
    for name in ("logs", "infra", "alerting", "security"):
        if not summary["workers"][name]["available"]:
            assert summary["workers"][name]["snapshot"] == {}
    assert summary["monitoring"]["checks"] == 8
    # Served from the cache until the cron refreshes it a minute later.
    cached = (await http.get("/monitoring/summary", headers=READ)).json()
    assert cached["generated_at"] == summary["generated_at"]
    await stack.advance(60)
    fresh = (await http.get("/monitoring/summary", headers=READ)).json()
    assert fresh["generated_at"] == "2026-03-02T00:01:00.000Z"
    metrics = (await http.get("/monitoring/metrics")).text
    assert 'monitoring_checks{status="up"} 8' in metrics
    assert "monitoring_open_incidents 0" in metrics
    assert "monitoring_uptime_24h_ratio 1" in metrics


@pytest.mark.anyio
async def test_the_snapshot_rpc_follows_the_contract(http: httpx.AsyncClient, stack: Stack) -> None:
    await http.get("/monitoring/checks", headers=READ)
    await stack.advance(60)
    alerting = stack.worker("obs-alerting").env
    snapshot = await alerting.MONITORING.snapshot()
    assert snapshot == {"checks": 8, "down": 0, "open_incidents": 0, "uptime_24h": 100.0}


@pytest.mark.anyio
async def test_the_status_page_shows_public_components_bars_and_incidents_without_detail(
    http: httpx.AsyncClient, stack: Stack, target: Target
) -> None:
    await http.post("/monitoring/checks", headers=ADMIN, json={
        "type": "http", "id": "api", "name": "Pitchey API", "group": "Pitchey",
        "url": f"{target.url}/secret-path", "confirmations": 1,
    })  # fmt: skip
    await http.post("/monitoring/checks", headers=ADMIN, json={
        "type": "http", "id": "hidden", "name": "Internal admin", "url": target.url,
        "public": False,
    })  # fmt: skip
    await stack.advance(60)
    target.status = 502
    await stack.advance(120)  # down from 120 s; now 180 s
    data = (await http.get("/monitoring/status.json")).json()
    assert data["status"] == "partial_outage"
    ids = [c["id"] for c in data["components"]]
    assert "api" in ids and "hidden" not in ids and "stack-r2" not in ids
    [api] = [c for c in data["components"] if c["id"] == "api"]
    assert api["status"] == "down" and len(api["days"]) == 90
    assert api["days"][-1] == {
        "date": "2026-03-02", "uptime_pct": round(100 * 120 / 180, 4), "downtime_s": 60.0,
        "incidents": 1,
    }  # fmt: skip
    assert api["days"][0]["uptime_pct"] is None  # before the check existed
    [incident] = data["incidents"]
    assert incident["open"] is True and "first_error" not in incident

    html = await http.get("/monitoring/status")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    page = html.text
    assert "Partial outage" in page and "Pitchey API" in page and "Internal admin" not in page
    assert page.count('class="bar ') >= 90 and "secret-path" not in page and "502" not in page
    assert "down since 2026-03-02T00:02:00.000Z (ongoing, 1.0 min)" in page
