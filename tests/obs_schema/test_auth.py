"""Bearer tokens: hashed, looked up by hash, scoped, bootstrapped once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localedge.clock import ManualClock
from localedge.env import Env
from localedge.kv import KVNamespace
from obs_schema import auth
from obs_schema.errors import Unauthorized

TOKENS = {"OBS_INGEST_TOKEN": "i-token", "OBS_READ_TOKEN": "r-token", "OBS_ADMIN_TOKEN": "a-token"}


@pytest.mark.parametrize(
    ("token", "scope"),
    [("i-token", "ingest"), ("r-token", "read"), ("a-token", "admin"), ("nope", None), ("", None)],
)
def test_a_token_matches_the_scope_whose_hash_it_has(token: str, scope: str | None) -> None:
    hashes = {s: [auth.hash_token(TOKENS[n])] for s, n in auth.SECRET_NAMES.items()}
    assert auth.match_scope(token, auth.table_of(hashes)) == scope


@pytest.mark.parametrize(
    ("held", "required", "granted"),
    [
        ("ingest", "ingest", True),
        ("ingest", "read", False),
        ("read", "read", True),
        ("read", "ingest", False),
        ("read", "admin", False),
        ("admin", "read", True),
        ("admin", "ingest", True),
        ("admin", "admin", True),
    ],
)
def test_admin_grants_every_scope_and_others_only_their_own(
    held: str, required: str, granted: bool
) -> None:
    assert auth.Principal(held).grants(required) is granted


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing bearer token"),
        ("", "missing bearer token"),
        ("Basic dXNlcjpwYXNz", "must be 'Bearer <token>'"),
        ("Bearer ", "must be 'Bearer <token>'"),
        ("Bearer wrong", "invalid bearer token"),
    ],
)
@pytest.mark.anyio
async def test_missing_malformed_or_unknown_tokens_are_unauthorized(
    header: str | None, message: str
) -> None:
    with pytest.raises(Unauthorized, match=message):
        await auth.authenticate(Env(TOKENS), header)


@pytest.mark.anyio
async def test_secrets_authenticate_with_any_bearer_spelling() -> None:
    assert (await auth.authenticate(Env(TOKENS), "bearer r-token")).scope == "read"
    assert (await auth.authenticate(Env(TOKENS), "  Bearer a-token ")).scope == "admin"


@pytest.mark.anyio
async def test_bootstrap_mints_tokens_once_and_stores_only_hashes(tmp_path: Path) -> None:
    kv = KVNamespace(tmp_path / "config.sqlite", ManualClock())
    tokens = await auth.bootstrap_tokens(kv, {})
    assert tokens is not None and sorted(tokens) == sorted(auth.SCOPES)
    assert all(t.startswith(f"obs_{scope}_") for scope, t in tokens.items())
    stored = await kv.get(auth.TOKENS_KEY)
    assert all(token not in stored for token in tokens.values())
    assert json.loads(stored)["read"] == [auth.hash_token(tokens["read"])]
    assert await auth.bootstrap_tokens(kv, {}) is None  # never twice
    env = Env({"CONFIG": kv})
    assert (await auth.authenticate(env, f"Bearer {tokens['ingest']}")).scope == "ingest"
    kv.close()


@pytest.mark.anyio
async def test_bootstrap_does_nothing_when_tokens_come_from_the_environment(
    tmp_path: Path,
) -> None:
    kv = KVNamespace(tmp_path / "config.sqlite", ManualClock())
    assert await auth.bootstrap_tokens(kv, {"OBS_READ_TOKEN": "mine"}) is None
    assert await kv.get(auth.TOKENS_KEY) is None
    kv.close()


@pytest.mark.parametrize(
    "record", ["not json", "[1, 2]", '{"read": "not-a-list"}', '{"read": [1]}']
)
@pytest.mark.anyio
async def test_a_corrupt_token_record_grants_nothing(tmp_path: Path, record: str) -> None:
    kv = KVNamespace(tmp_path / "config.sqlite", ManualClock())
    await kv.put(auth.TOKENS_KEY, record)
    with pytest.raises(Unauthorized):
        await auth.authenticate(Env({"CONFIG": kv}), "Bearer not-a-list")
    kv.close()


def test_a_token_configured_for_two_scopes_grants_the_stronger() -> None:
    table = auth.table_of({"admin": [auth.hash_token("both")], "read": [auth.hash_token("both")]})
    assert auth.match_scope("both", table) == "admin"


@pytest.mark.anyio
async def test_a_rotated_secret_counts_at_once_and_the_old_one_no_longer() -> None:
    assert (await auth.authenticate(Env(TOKENS), "Bearer r-token")).scope == "read"
    rotated = Env({**TOKENS, "OBS_READ_TOKEN": "r-token-2"})
    assert (await auth.authenticate(rotated, "Bearer r-token-2")).scope == "read"
    with pytest.raises(Unauthorized):
        await auth.authenticate(rotated, "Bearer r-token")
