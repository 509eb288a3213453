"""The declared-checks file: validated like the API, filtered by environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from monitoring import declared

FILE = """
[[check]]
name = "Pitchey API"
type = "http"
url = "https://api.pitchey.com/health"
environments = ["production"]

[[check]]
id = "kv"
name = "KV"
type = "internal"
target = "kv"
"""


def test_entries_are_validated_given_ids_and_filtered_by_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed = declared.parse(FILE)
    assert [(spec["id"], envs) for spec, envs in parsed] == [
        ("pitchey-api", ("production",)),
        ("kv", ()),
    ]
    assert parsed[0][0]["interval"] == 60.0 and parsed[1][0]["public"] is False
    monkeypatch.setattr(declared, "DECLARED", parsed)
    assert [s["id"] for s in declared.for_environment("staging")] == ["kv"]
    assert [s["id"] for s in declared.for_environment("production")] == ["pitchey-api", "kv"]


def test_a_bad_file_fails_loudly() -> None:
    with pytest.raises(ValidationError):
        declared.parse('[[check]]\nname = "x"\ntype = "http"\nurl = "gopher://x"\n')
    with pytest.raises(ValueError, match="unique"):
        declared.parse(FILE.replace('id = "kv"', 'id = "pitchey-api"'))


def test_the_shipped_file_declares_the_stack_checks() -> None:
    ids = [spec["id"] for spec, _ in declared.DECLARED]
    assert ids[:3] == ["stack-config-kv", "stack-durable-objects", "stack-r2"]
    assert {s["worker"] for s, _ in declared.DECLARED if s.get("target") == "service"} == {
        "logs", "apm", "infra", "alerting", "security",
    }  # fmt: skip
