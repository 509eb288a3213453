"""Cloudflare entry point of the logs Worker: the only module that imports `workers`.

The Durable Object classes are thin: each RPC method delegates to the pure cores in
`logs.store` and `logs.gate`, which the tests drive directly.
"""

from logs import redaction
from logs.app import app, schedule
from logs.archive import Policy, archive_shard
from logs.gate import GateCore
from logs.snapshot import snapshot
from logs.store.catalog import CatalogCore
from logs.store.shardarchive import ShardArchive
from logs.store.shardcore import ShardCore
from obs_schema import host
from workers import DurableObject, WorkerEntrypoint, asgi, wait_until

host.install(defer=wait_until)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await asgi.fetch(app, request, self.env)

    async def scheduled(self, controller, env, ctx):
        await schedule.run(controller.cron, self.env, controller.scheduledTime)

    async def snapshot(self):
        async with app.state.binding_telemetry.session(self.env) as env:
            return await snapshot(env, host.now_ms())

    async def scrub_key(self):
        """The key behind marker hashes (minted on first use), for Workers that scrub too."""
        return (await redaction.scrub_key(self.env)).decode()


class LogShard(DurableObject):
    """One (time bucket, slot) of the hot store: SQLite rows, FTS5 index, per-minute stats."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self._core = None

    @property
    def core(self):
        if self._core is None:  # built on first use, and again after drop()
            self._core = ShardCore(self.ctx.storage.sql)
        return self._core

    async def insert(self, chunks):
        return self.core.insert(chunks)

    async def search(self, spec):
        return self.core.search(spec)

    async def trace(self, trace_id, limit, slot=None):
        return self.core.trace(trace_id, limit, slot)

    async def stats(self, since_ms, until_ms):
        return self.core.stats(since_ms, until_ms)

    async def archive(self, now_ms, policy):
        parts = ShardArchive(self.core.sql)
        return await archive_shard(parts, self.env.ARCHIVE, Policy.from_dict(policy), now_ms)

    async def counts(self):
        return ShardArchive(self.core.sql).counts()

    async def drop(self):
        """Free the object once its bucket is archived and past retention."""
        await self.ctx.storage.deleteAll()
        self._core = None


class ShardCatalog(DurableObject):
    """The list of shards that hold rows, so reads visit only those."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.core = CatalogCore(ctx.storage.sql)

    async def register(self, pairs):
        return self.core.register(pairs)

    async def existing(self, first, last):
        return self.core.existing(first, last)

    async def forget(self, pairs):
        return self.core.forget(pairs)

    async def scrub_key(self, candidate):
        return self.core.scrub_key(candidate)


class AlertGate(DurableObject):
    """Alert decisions for the whole deployment: burst windows and deduplication."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.core = GateCore(ctx.storage.sql)

    async def decide(self, groups, now_ms, policy):
        return self.core.decide(groups, now_ms, policy)
