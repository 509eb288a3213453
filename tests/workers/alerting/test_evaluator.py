"""The rule cron over the other Workers' `snapshot()` numbers, minute by minute on the fake
clock: threshold with `for`, rate of change, absence, and a Worker that does not answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from localedge.stack import Stack
from tests.receiver import Receiver
from tests.workers.alerting.support import ADMIN, READ, bodies, configure

pytestmark = pytest.mark.anyio

RULES = {
    "rules": [
        {
            "name": "ServiceErrorRate",
            "metric": "apm.by_service_5m.*.error_rate",
            "op": ">",
            "threshold": 0.05,
            "for": "2m",
            "severity": "critical",
            "annotations": {"summary": "{service} error rate {value} > {threshold}"},
        },
        {
            "name": "ErrorLogsJump",
            "kind": "rate_of_change",
            "metric": "logs.errors_5m",
            "window": "2m",
            "change": "absolute",
            "op": ">=",
            "threshold": 100,
        },
        {"name": "NoLogs", "kind": "absence", "metric": "logs.records_5m", "for": "2m"},
        {
            "name": "SecurityQuiet",
            "kind": "threshold",
            "metric": "security.events_5m",
            "threshold": 0,
        },
    ]
}


def minute(numbers: dict[str, Any], api: float, logs_errors: int, records: int | None) -> None:
    numbers["apm"] = {
        "by_service_5m": {"api": {"error_rate": api, "requests": 100}, "web": {"error_rate": 0.0}}
    }
    numbers["logs"] = {"errors_5m": logs_errors} | (
        {"records_5m": records} if records is not None else {}
    )


async def states(http: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    rules = (await http.get("/alerts/rules", headers=READ)).json()["rules"]
    return {r["name"]: {k: v["state"] for k, v in r["instances"].items()} for r in rules}


async def firing(http: httpx.AsyncClient) -> list[tuple[str, str]]:
    alerts = (await http.get("/alerts?status=active", headers=READ)).json()["alerts"]
    return sorted((a["name"], a["labels"].get("service", "")) for a in alerts)


async def test_rules_fire_and_resolve_at_the_minutes_their_conditions_say(
    stack: Stack, http: httpx.AsyncClient, numbers: dict[str, Any], hook: Receiver
) -> None:
    await configure(
        http,
        {
            "route": {"receiver": "hook", "group_wait": "0s", "group_by": ["alertname", "service"]},
            "receivers": [{"name": "hook", "webhook_configs": [{"url": hook.url}]}],
        },
    )
    assert (await http.put("/alerts/rules", json=RULES, headers=ADMIN)).status_code == 200
    script = [
        (0.01, 10, 500),
        (0.2, 10, 500),
        (0.2, 150, 500),
        (0.2, 150, None),
        (0.01, 150, None),
        (0.01, 150, None),
    ]
    seen = []
    for api, errors, records in script:
        minute(numbers, api, errors, records)
        await stack.advance(60)
        seen.append(await firing(http))
    assert seen == [
        [],
        [],  # api breached, pending for 2m
        [("ErrorLogsJump", "")],  # errors 10 -> 150 over 2m
        [("ErrorLogsJump", ""), ("ServiceErrorRate", "api")],
        [],  # api recovered; errors flat over the last 2m
        [("NoLogs", "")],  # records missing for 2m
    ]
    assert (await states(http))["NoLogs"] == {"": "firing"}
    fired = [
        b for b in bodies(hook.requests) if b["groupLabels"].get("alertname") == "ServiceErrorRate"
    ]
    assert [(b["status"], b["alerts"][0]["annotations"]["summary"]) for b in fired] == [
        ("firing", "api error rate 0.2 > 0.05"),
    ]
    # The security Worker never answered: its rule neither fired nor counted as recovered.
    assert (await states(http))["SecurityQuiet"] == {}


async def test_evaluating_on_demand_reports_which_workers_answered(
    http: httpx.AsyncClient, numbers: dict[str, Any]
) -> None:
    await http.put("/alerts/rules", json=RULES, headers=ADMIN)
    minute(numbers, 0.5, 0, 1)
    reply = (await http.post("/alerts/rules/evaluate", headers=ADMIN)).json()
    assert reply["rules"] == 4
    assert "security" not in reply["sources"] and {"apm", "logs", "alerting"} <= set(
        reply["sources"]
    )
    assert (await states(http))["ServiceErrorRate"] == {"api": "pending"}


async def test_a_removed_rule_resolves_its_alerts(
    stack: Stack, http: httpx.AsyncClient, numbers: dict[str, Any]
) -> None:
    await http.put(
        "/alerts/rules", json={"rules": [RULES["rules"][0] | {"for": "0s"}]}, headers=ADMIN
    )
    minute(numbers, 0.5, 0, 1)
    await stack.advance(60)
    assert await firing(http) == [("ServiceErrorRate", "api")]
    await http.put("/alerts/rules", json={"rules": []}, headers=ADMIN)
    await stack.advance(60)
    assert await firing(http) == []
