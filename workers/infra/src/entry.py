"""Cloudflare entry point of the infra Worker: the only module that imports `workers`."""

from infra import telemetry
from infra.app import app, schedule, take_snapshot
from infra.shardhost import ShardHost
from obs_schema import host
from workers import DurableObject, WorkerEntrypoint, asgi, wait_until

host.install(defer=wait_until)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await asgi.fetch(app, request, self.env)

    async def scheduled(self, controller, env, ctx):
        await schedule.run(controller.cron, self.env, controller.scheduledTime)

    async def snapshot(self):
        """InfraSnapshot (obs_schema.snapshots): active anomalies, capacity warnings, KV p95."""
        return await take_snapshot(self.env)

    async def record_telemetry(self, batch):
        """Binding telemetry from the other Workers (obs_schema.telemetry ships it here)."""
        return await telemetry.receive(self.env, batch, host.now_ms())


class MetricsShard(DurableObject):
    """One shard of the time-series store; the logic lives in infra.shardhost."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.host = ShardHost(ctx.storage.sql)

    async def ingest(self, payload, now_ms):
        return self.host.ingest(payload, now_ms)

    async def query(self, spec, now_ms):
        return self.host.query(spec, now_ms)

    async def series(self, prefix, limit):
        return self.host.series(prefix, limit)

    async def maintain(self, now_ms):
        return self.host.maintain(now_ms)

    async def stats(self):
        return self.host.stats()

    async def detect(self, now_ms):
        return self.host.detect(now_ms)

    async def anomalies(self, state, since_ms, metric, limit):
        return self.host.anomalies(state, since_ms, metric, limit)
