"""JSON field assertions of HTTP checks."""

from __future__ import annotations

import json

import pytest

from monitoring.jsonfield import PathError, check, parse_path

BODY = json.dumps({"status": "ok", "checks": {"db": {"latency": 12}}, "items": [{"ok": True}]})


@pytest.mark.parametrize(
    ("assertion", "problem"),
    [
        ({"path": "status", "value": "ok"}, None),
        ({"path": "$.status", "op": "ne", "value": "down"}, None),
        ({"path": "checks.db.latency", "op": "lt", "value": 50}, None),
        (
            {"path": "checks.db.latency", "op": "gt", "value": 50},
            "checks.db.latency is 12, expected gt 50",
        ),
        ({"path": "items[0].ok", "value": True}, None),
        ({"path": "items[3].ok", "op": "exists"}, "items[3].ok is missing"),
        ({"path": "status", "op": "contains", "value": "o"}, None),
        ({"path": "status", "op": "contains", "value": 1}, 'status is "ok", expected contains 1'),
        ({"path": "nope", "op": "ne", "value": 1}, None),
        ({"path": "status", "op": "lt", "value": 3}, 'status is "ok", expected lt 3'),
    ],
)  # fmt: skip
def test_assertions(assertion: dict[str, object], problem: str | None) -> None:
    assert check(BODY, assertion) == problem


def test_non_json_bodies_and_bad_paths() -> None:
    assert check("<html>", {"path": "a"}) == "the body is not JSON"
    assert parse_path("a.b[2].c") == ["a", "b", 2, "c"]
    for bad in ("", ".a", "a.", "a[x]"):
        with pytest.raises(PathError):
            parse_path(bad)
