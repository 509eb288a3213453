"""Configuration, rules and on-call over HTTP: admin to change, 422 with every problem."""

from __future__ import annotations

import httpx
import pytest

from tests.workers.alerting.support import ADMIN, READ, at

pytestmark = pytest.mark.anyio


async def test_configuration_needs_admin_to_change_and_reports_every_problem(
    http: httpx.AsyncClient,
) -> None:
    default = (await http.get("/alerts/config", headers=READ)).json()
    assert default["route"]["receiver"] == "default"
    assert (await http.put("/alerts/config", json=default, headers=READ)).status_code == 403
    bad = {
        "route": {"receiver": "ghost", "group_wait": "soon"},
        "receivers": [{"name": "r", "slack_configs": [{}]}],
    }
    reply = await http.put("/alerts/config", json=bad, headers=ADMIN)
    assert reply.status_code == 422
    error = reply.json()["error"]
    assert error["code"] == "validation_failed"
    assert sorted(".".join(d["loc"]) for d in error["details"]) == [
        "receivers.0.slack_configs.0.url",
        "route.group_wait",
        "route.receiver",
    ]
    assert (await http.get("/alerts/config", headers=READ)).json() == default  # unchanged


async def test_rules_are_replaced_as_a_whole_and_listed_with_their_state(
    http: httpx.AsyncClient,
) -> None:
    rules = {"rules": [{"name": "Many", "metric": "alerting.firing", "op": ">=", "threshold": 1}]}
    put = await http.put("/alerts/rules", json=rules, headers=ADMIN)
    assert put.status_code == 200, put.text
    listed = (await http.get("/alerts/rules", headers=READ)).json()["rules"]
    assert listed == [
        {
            "name": "Many",
            "kind": "threshold",
            "metric": "alerting.firing",
            "op": ">=",
            "threshold": 1.0,
            "for": "0s",
            "severity": "warning",
            "enabled": True,
            "labels": {},
            "annotations": {},
            "instances": {},
        }
    ]
    bad = await http.put(
        "/alerts/rules", json={"rules": [{"name": "X", "metric": "apm.p95"}]}, headers=ADMIN
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["loc"] == ["rules", "0", "threshold"]


async def test_oncall_says_who_is_on_call_now_and_next(http: httpx.AsyncClient) -> None:
    config = {
        "route": {"receiver": "r"},
        "receivers": [{"name": "r"}],
        "people": [{"name": "alice"}, {"name": "bob"}, {"name": "carol"}],
        "schedules": [
            {
                "name": "primary",
                "rotation": {"users": ["alice", "bob"], "start": at(-3600), "shift": "1d"},
                "overrides": [{"user": "carol", "start": at(82_800), "end": at(90_000)}],
            }
        ],
    }
    assert (await http.put("/alerts/config", json=config, headers=ADMIN)).status_code == 200
    reply = (await http.get("/alerts/oncall", headers=READ)).json()
    assert reply == {
        "schedules": [
            {
                "schedule": "primary",
                "now": {"user": "alice", "from": at(-3600), "until": at(82_800), "override": False},
                "next": [
                    {"user": "carol", "from": at(82_800), "until": at(90_000), "override": True},
                    {"user": "bob", "from": at(90_000), "until": at(169_200), "override": False},
                    {"user": "alice", "from": at(169_200), "until": at(255_600), "override": False},
                ],
            }
        ]
    }
    later = (await http.get("/alerts/oncall?at=now%2B1d", headers=READ)).json()
    assert later["schedules"][0]["now"]["user"] == "carol"
    assert (await http.get("/alerts/oncall?at=whenever", headers=READ)).status_code == 400
