"""Rate-limit rules: which requests they count and under which key."""

from __future__ import annotations

import pytest

from security.limit.rules import LimitRule, Subject, key_for, matching, shard_of

SUBJECT = Subject(
    ip="203.0.113.7",
    user="u1",
    token="secret-token",
    route="/api/auth/login",
    headers=(("x-api-key", "k1"),),
)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (("ip",), "ip=203.0.113.7"),
        (("user", "route"), "user=u1|route=/api/auth/login"),
    ],
)
def test_keys_name_their_components(key: tuple[str, ...], expected: str) -> None:
    built = key_for(LimitRule("r", key, 1, 1), SUBJECT)
    assert built is not None and built.startswith(expected)


def test_secrets_in_keys_are_digested_and_missing_components_skip_the_rule() -> None:
    token_key = key_for(LimitRule("r", ("token",), 1, 1), SUBJECT)
    header_key = key_for(LimitRule("r", ("header:X-API-Key",), 1, 1), SUBJECT)
    assert token_key is not None and "secret" not in token_key and len(token_key) == 30
    assert header_key is not None and "k1" not in header_key
    anonymous = Subject(ip="203.0.113.7")
    assert key_for(LimitRule("r", ("user",), 1, 1), anonymous) is None


def test_routes_are_globs_and_methods_filter() -> None:
    rules = (
        LimitRule("login", ("ip",), 5, 60, routes=("/api/auth/*",), methods=("POST",)),
        LimitRule("all", ("ip",), 600, 60),
    )
    assert [r.id for r in matching(rules, "POST", "/api/auth/login")] == ["login", "all"]
    assert [r.id for r in matching(rules, "GET", "/api/auth/login")] == ["all"]
    assert [r.id for r in matching(rules, "POST", "/api/pitches")] == ["all"]


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"key": ()}, "at least one component"),
        ({"key": ("cookie",)}, "unknown key component"),
        ({"mode": "exact", "limit": 5000}, "exact mode"),
        ({"window_s": 0}, "at least 1"),
        ({"mode": "leaky"}, "mode must be"),
    ],
)
def test_invalid_rules_say_why(kwargs: dict[str, object], problem: str) -> None:
    fields: dict[str, object] = {"id": "r", "key": ("ip",), "limit": 5, "window_s": 60}
    with pytest.raises(ValueError, match=problem):
        LimitRule(**{**fields, **kwargs})  # type: ignore[arg-type]


def test_shards_spread_keys_stably() -> None:
    shards = [shard_of(f"ip=10.0.{i // 256}.{i % 256}", 16) for i in range(4096)]
    assert shards == [shard_of(f"ip=10.0.{i // 256}.{i % 256}", 16) for i in range(4096)]
    assert min(shards.count(s) for s in range(16)) > 4096 / 16 * 0.8
