"""Cloudflare entry point of the apm Worker: the only module that imports `workers`."""

from apm.app import app, schedule
from apm.colos import colo_stats
from apm.shards import ControlCore, SpanShardCore, StatsShardCore
from apm.snapshot import snapshot
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
            return dict(await snapshot(env))

    async def colo_stats(self, start_ms, end_ms):
        """`[{colo, requests, errors, p95_ms}]` per edge location of server spans."""
        async with app.state.binding_telemetry.session(self.env) as env:
            return [dict(row) for row in await colo_stats(env, start_ms, end_ms)]


class SpanShard(DurableObject):
    """Spans, trace index, N+1 repeats of the traces whose id hashes here."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.core = SpanShardCore(ctx.storage.sql, env)

    async def ingest(self, chunks, resources, now_ms):
        return self.core.ingest(chunks, resources, now_ms)

    async def trace(self, trace_id):
        return self.core.store.trace(trace_id)

    async def search(self, query):
        return self.core.store.search(query)

    async def repeats(self, since_ns, until_ns, minimum, limit):
        return self.core.store.repeats(since_ns, until_ns, minimum, limit)

    async def sample(self, policy, now_ms):
        return self.core.sample(policy, now_ms)

    async def archive(self, now_ms, shard):
        return await self.core.archive(now_ms, shard)

    async def purge_archive(self, now_ms):
        return await self.core.purge_archive(now_ms)

    async def forget(self, before_ns, dropped_before_ms):
        return self.core.store.forget(before_ns, dropped_before_ms)

    async def counts(self):
        return self.core.store.counts()


class StatsShard(DurableObject):
    """Minute sketches and daily running hour totals of the keys that hash here."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.core = StatsShardCore(ctx.storage.sql)

    async def record(self, entries):
        return self.core.store.record(entries)

    async def totals(self, kind, start, end, hourly, a):
        return self.core.totals(kind, start, end, hourly, a)

    async def describe(self, kind, start, end, hourly, a, apdex_t):
        return self.core.describe(kind, start, end, hourly, a, apdex_t)

    async def summary(self, start, end, hourly, service, apdex_t):
        return self.core.summary(start, end, hourly, service, apdex_t)

    async def series(self, kind, a, b, start, end, step, hourly):
        return self.core.series(kind, a, b, start, end, step, hourly)

    async def examples(self, kind, a, b, start, end, limit):
        return self.core.store.examples(kind, a, b, start, end, limit)

    async def rollup(self, now_minute):
        return self.core.store.rollup(now_minute)

    async def prune(self, minute_floor, hour_floor):
        return self.core.store.prune(minute_floor, hour_floor)


class ApmControl(DurableObject):
    """Settings and threshold-alert state: one object, read-your-writes."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.core = ControlCore(ctx.storage.sql)

    async def config(self):
        return self.core.store.config()

    async def update(self, changes):
        return self.core.store.update(changes)

    async def states(self):
        return self.core.store.states()

    async def set_state(self, rule_id, service, route, firing, since_ms, value):
        return self.core.store.set_state(rule_id, service, route, firing, since_ms, value)
