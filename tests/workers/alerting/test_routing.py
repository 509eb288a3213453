"""The routing tree: depth-first, first match wins unless `continue`, inherited settings."""

from __future__ import annotations

from typing import Any

import pytest

from alerting import routing
from alerting.problems import Invalid, Problems

TREE: dict[str, Any] = {
    "receiver": "default",
    "group_by": ["alertname"],
    "group_wait": "10s",
    "routes": [
        {
            "matchers": ['team="db"'],
            "receiver": "db",
            "group_by": ["alertname", "cluster"],
            "routes": [
                {"matchers": ['severity="critical"'], "receiver": "db-pager", "group_wait": "0s"}
            ],
        },
        {"matchers": ['service=~"api|web"'], "receiver": "frontend", "continue": True},
        {"matchers": ['severity="critical"'], "receiver": "pager", "escalation": "critical"},
        {"match": {"env": "staging"}, "receiver": "staging", "group_by": ["..."]},
    ],
}


def parse(tree: dict[str, Any]) -> routing.Route:
    problems = Problems()
    route = routing.parse_route(tree, problems)
    problems.raise_if_any()
    assert route is not None
    return route


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        ({"alertname": "X"}, ["default"]),
        ({"alertname": "X", "team": "db"}, ["db"]),
        ({"alertname": "X", "team": "db", "severity": "critical"}, ["db-pager"]),
        ({"alertname": "X", "service": "api"}, ["frontend"]),
        ({"alertname": "X", "service": "api", "severity": "critical"}, ["frontend", "pager"]),
        ({"alertname": "X", "team": "db", "service": "api"}, ["db"]),  # no continue on db
        ({"alertname": "X", "env": "staging"}, ["staging"]),
    ],
)
def test_alerts_take_the_first_matching_routes_depth_first(
    labels: dict[str, str], receivers: list[str]
) -> None:
    assert [r.receiver for r in parse(TREE).match(labels)] == receivers


def test_children_inherit_unset_settings_and_keys_follow_alertmanager() -> None:
    root = parse(TREE)
    db, frontend, pager, staging = root.routes
    db_pager = db.routes[0]
    assert (db_pager.group_by, db_pager.group_wait_ms, db_pager.group_interval_ms) == (
        ("alertname", "cluster"),
        0,
        300_000,
    )
    assert (pager.escalation, frontend.escalation, frontend.group_wait_ms) == (
        "critical",
        None,
        10_000,
    )
    assert db_pager.key == '{}/{team="db"}/{severity="critical"}'
    labels = {"alertname": "Lag", "cluster": "eu", "team": "db", "severity": "critical"}
    assert (
        db_pager.group_key(labels)
        == '{}/{team="db"}/{severity="critical"}:{alertname="Lag", cluster="eu"}'
    )
    assert staging.group_labels({"a": "1", "env": "staging"}) == {"a": "1", "env": "staging"}


def test_every_problem_of_a_tree_is_reported_with_its_place() -> None:
    bad = {
        "receiver": "default",
        "matchers": ['a="b"'],
        "group_wait": "soon",
        "routes": [{"matchers": ["x=~("], "group_interval": "0s", "recever": "typo"}, "nope"],
    }
    problems = Problems()
    routing.parse_route(bad, problems)
    with pytest.raises(Invalid) as caught:
        problems.raise_if_any()
    places = {".".join(d["loc"]) for d in caught.value.details}
    assert places == {
        "route",
        "route.group_wait",
        "route.routes.0.recever",
        "route.routes.0.matchers.0",
        "route.routes.0.group_wait",
        "route.routes.0.group_interval",
        "route.routes.1",
    }
