"""The stack binds fixture Workers the way Cloudflare would, and keeps their state on disk."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from localedge.clock import ManualClock
from localedge.errors import ConfigError, RpcError
from localedge.stack import Stack, StackOptions

FIXTURE = Path(__file__).parent / "fixture"
# 2026-01-01T00:01:00Z: the next */5 cron fires 4 minutes later.
START = datetime(2026, 1, 1, 0, 1, tzinfo=UTC).timestamp()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURE, root)
    return root


async def started(root: Path, data: Path, clock: ManualClock, env: str | None = None) -> Stack:
    stack = Stack(StackOptions(root=root, data_dir=data, clock=clock, environment=env))
    await stack.start(run_timers=False)
    return stack


@pytest.fixture
async def stack(tree: Path, tmp_path: Path) -> AsyncIterator[Stack]:
    running = await started(tree, tmp_path / "data", ManualClock(START))
    yield running
    await running.close()


@pytest.mark.anyio
async def test_env_carries_vars_and_every_declared_binding(stack: Stack) -> None:
    env = stack.worker("alpha").env
    assert env.GREETING == "hello"
    assert {"SHARED", "BUCKET", "COUNTER", "BETA"} <= set(env)
    with pytest.raises(AttributeError):
        _ = env.NOT_DECLARED


@pytest.mark.anyio
async def test_workers_binding_the_same_kv_id_share_data(stack: Stack) -> None:
    await stack.worker("alpha").env.SHARED.put("k", "v")
    assert await stack.worker("beta").env.SHARED.get("k") == "v"


@pytest.mark.anyio
async def test_script_name_reaches_the_durable_object_class_of_another_worker(stack: Stack) -> None:
    assert await stack.worker("alpha").env.COUNTER.getByName("web").increment(2) == 2
    assert await stack.worker("alpha").env.BETA.total() == 2


@pytest.mark.anyio
async def test_service_binding_fetch_runs_the_target_default_entrypoint(stack: Stack) -> None:
    reply = await stack.worker("alpha").env.BETA.fetch("https://beta/x", method="PUT", body="hi")
    assert reply.status == 200
    assert await reply.text() == "beta got PUT hi"
    assert reply.headers["x-from"] == "beta"


@pytest.mark.anyio
async def test_service_binding_rpc_copies_arguments_and_rejects_unknown_methods(
    stack: Stack,
) -> None:
    words = ["a", "b"]
    assert await stack.worker("alpha").env.BETA.shout(words) == {"shout": "A B"}
    assert words == ["a", "b"]
    with pytest.raises(RpcError, match="does not implement"):
        await stack.worker("alpha").env.BETA.no_such_method()
    with pytest.raises(RpcError):
        await stack.worker("alpha").env.BETA.shout(("a", "tuple"))


@pytest.mark.anyio
async def test_cron_fires_at_its_exact_minute_and_its_wait_until_work_completes(
    stack: Stack,
) -> None:
    alpha = stack.worker("alpha")
    await stack.advance(4 * 60 - 1)
    assert alpha.module.CRON_RUNS == []
    await stack.advance(1)
    fired_at = int(datetime(2026, 1, 1, 0, 5, tzinfo=UTC).timestamp() * 1000)
    assert [("*/5 * * * *", fired_at)] == alpha.module.CRON_RUNS
    assert await alpha.env.SHARED.get("last-cron") == str(fired_at)
    assert await (await alpha.env.BUCKET.get(f"cron/{fired_at}")).text() == "ran"
    await stack.advance(10 * 60)
    assert len(alpha.module.CRON_RUNS) == 3


@pytest.mark.anyio
async def test_cron_triggered_on_demand_runs_only_workers_declaring_it(stack: Stack) -> None:
    assert await stack.trigger_cron("*/5 * * * *") == ["alpha"]
    assert await stack.trigger_cron("0 0 * * *") == []
    with pytest.raises(ConfigError):
        await stack.trigger_cron("*/5 * * * *", worker="nobody")


@pytest.mark.parametrize(
    ("path", "worker"),
    [
        ("/alpha/echo", "alpha"),
        ("/alpha", "alpha"),
        ("/alpha/special/x", "beta"),  # the more specific pattern wins
        ("/beta/hello", "beta"),
        ("/gamma", None),
    ],
)
@pytest.mark.anyio
async def test_routes_map_paths_to_workers(stack: Stack, path: str, worker: str | None) -> None:
    found = stack.route(path)
    assert (found.name if found else None) == worker


@pytest.mark.anyio
async def test_state_of_every_binding_survives_a_restart(tree: Path, tmp_path: Path) -> None:
    clock = ManualClock(START)
    first = await started(tree, tmp_path / "data", clock)
    env = first.worker("alpha").env
    await env.SHARED.put("kept", "yes")
    await env.BUCKET.put("kept.txt", "object")
    await env.COUNTER.getByName("web").increment(5)
    await first.close()

    second = await started(tree, tmp_path / "data", clock)
    env = second.worker("alpha").env
    assert await env.SHARED.get("kept") == "yes"
    assert await (await env.BUCKET.get("kept.txt")).text() == "object"
    assert await env.COUNTER.getByName("web").increment(0) == 5
    await second.close()


@pytest.mark.anyio
async def test_an_environment_section_renames_workers_and_swaps_bindings(
    tree: Path, tmp_path: Path
) -> None:
    stack = await started(tree, tmp_path / "data", ManualClock(START), env="staging")
    try:
        assert sorted(stack.workers) == ["alpha-staging", "beta-staging"]
        alpha = stack.worker("alpha-staging").env
        assert alpha.GREETING == "hello staging"
        assert await alpha.BETA.fetch("https://beta/") is not None
        await alpha.SHARED.put("k", "staging")
    finally:
        await stack.close()
    production = await started(tree, tmp_path / "data", ManualClock(START))
    try:
        assert await production.worker("alpha").env.SHARED.get("k") is None
    finally:
        await production.close()


@pytest.mark.anyio
async def test_secrets_come_from_dev_vars_and_options(tree: Path, tmp_path: Path) -> None:
    (tree / "workers" / "alpha" / ".dev.vars").write_text('API_KEY="s3cret"\n# comment\n')
    stack = Stack(
        StackOptions(
            root=tree, data_dir=tmp_path / "d", clock=ManualClock(START), secrets={"X": "y"}
        )
    )
    await stack.start(run_timers=False)
    try:
        assert stack.worker("alpha").env.API_KEY == "s3cret"
        assert stack.worker("beta").env.X == "y"
        assert "API_KEY" not in stack.worker("beta").env
        assert "s3cret" not in repr(stack.worker("alpha").env)
    finally:
        await stack.close()
