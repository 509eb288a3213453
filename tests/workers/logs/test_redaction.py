"""Without a secret, the scrubbing key is minted once for the whole deployment.

KV is eventually consistent: isolates that read it empty at the same moment must still end up
with one key, or one value would get two markers. The catalog object keeps the first key it
is offered; KV mirrors it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from localedge.clock import ManualClock
from localedge.stack import Stack, StackOptions
from localedge.storage import DurableObjectStorage
from logs import redaction
from logs.redaction import KEY_KV
from logs.store.catalog import CatalogCore
from tests.workers.logs.helpers import ROOT, TOKENS

pytestmark = pytest.mark.anyio
NO_SECRET = {name: value for name, value in TOKENS.items() if name != "OBS_SCRUB_KEY"}


class StaleKV:
    """A KV namespace as an isolate may see it: `get` answers what it was told, not what
    others wrote since."""

    def __init__(self, seen: str | None = None) -> None:
        self.seen = seen
        self.written: list[str] = []

    async def get(self, key: str) -> str | None:
        assert key == KEY_KV
        return self.seen

    async def put(self, key: str, value: str) -> None:
        assert key == KEY_KV
        self.written.append(value)


@pytest.fixture
async def catalog_binding(tmp_path: Path) -> AsyncIterator[Any]:
    stack = Stack(
        StackOptions(root=ROOT, data_dir=tmp_path, clock=ManualClock(0.0), secrets=NO_SECRET)
    )
    await stack.start(run_timers=False)
    yield stack.worker("obs-logs").env.LOG_CATALOG
    await stack.close()


def isolate(catalog: Any, kv: StaleKV) -> Any:
    return SimpleNamespace(CONFIG=kv, LOG_CATALOG=catalog)


def test_the_first_key_offered_is_everyones(storage: DurableObjectStorage) -> None:
    core = CatalogCore(storage.sql)
    assert core.scrub_key("first") == "first"
    assert core.scrub_key("second") == "first"


async def test_isolates_minting_at_once_agree(catalog_binding: Any) -> None:
    kvs = [StaleKV(), StaleKV()]
    keys = await asyncio.gather(*(redaction.scrub_key(isolate(catalog_binding, kv)) for kv in kvs))
    assert keys[0] == keys[1] and len(keys[0]) >= 32
    assert [kv.written for kv in kvs] == [[keys[0].decode()]] * 2  # each mirrors it to KV


async def test_a_key_already_in_kv_stays_and_a_stale_reader_gets_it(catalog_binding: Any) -> None:
    assert await redaction.scrub_key(isolate(catalog_binding, StaleKV("kept"))) == b"kept"
    stale = StaleKV()
    assert await redaction.scrub_key(isolate(catalog_binding, stale)) == b"kept"
    assert stale.written == ["kept"]


async def test_a_secret_wins(catalog_binding: Any) -> None:
    env = SimpleNamespace(OBS_SCRUB_KEY="secret", CONFIG=StaleKV("kv"), LOG_CATALOG=None)
    assert await redaction.scrub_key(env) == b"secret"
