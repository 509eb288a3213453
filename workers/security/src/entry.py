"""Cloudflare entry point of the security Worker: the only module that imports `workers`."""

from obs_schema import host
from security import rpc
from security.app import app, schedule, telemetry
from security.respond.ledger import Ledger, LedgerError
from security.shard import ShardCore
from workers import DurableObject, WorkerEntrypoint, asgi, wait_until

host.install(defer=wait_until)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await asgi.fetch(app, request, self.env)

    async def scheduled(self, controller, env, ctx):
        await schedule.run(controller.cron, self.env, controller.scheduledTime)

    async def check(self, request):
        """`POST /security/check` for service-binding callers (no HTTP, no token)."""
        async with app.state.binding_telemetry.session(self.env) as env:
            return await rpc.check(env, request, telemetry)

    async def report_outcomes(self, outcomes):
        """`POST /security/outcomes` for service-binding callers."""
        async with app.state.binding_telemetry.session(self.env) as env:
            return await rpc.outcomes(env, outcomes, telemetry)

    async def snapshot(self):
        """SecuritySnapshot (obs_schema.snapshots): the last five minutes, blocks in force."""
        async with app.state.binding_telemetry.session(self.env) as env:
            return await rpc.snapshot(env)


class SecurityShard(DurableObject):
    """Rate-limit counters, behaviour, events and incidents of the keys hashing here."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.core = ShardCore(ctx.storage.sql)

    async def check(self, bundle):
        return self.core.check(bundle)

    async def check_many(self, bundles):
        return self.core.check_many(bundles)

    async def outcome(self, bundle):
        return self.core.outcome(bundle)

    async def record(self, bundle):
        return self.core.record(bundle)

    async def query_events(self, query):
        return self.core.query_events(query)

    async def query_incidents(self, query):
        return self.core.query_incidents(query)

    async def get_incident(self, incident_id):
        return self.core.get_incident(incident_id)

    async def set_incident_status(self, incident_id, status, now_ms):
        return self.core.set_incident_status(incident_id, status, now_ms)

    async def summary(self, since_ms, top):
        return self.core.summary(since_ms, top)

    async def maintain(self, now_ms):
        return self.core.maintain(now_ms)


class SecurityLedger(DurableObject):
    """Blocks, allows and their audit trail; its alarm audits expiries as they happen."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.core = Ledger(ctx.storage.sql)

    async def add(self, entry, now_ms):
        return await self._change(lambda: self.core.add(entry, now_ms))

    async def remove(self, block_id, actor, reason, now_ms):
        return await self._change(lambda: self.core.remove(block_id, actor, reason, now_ms))

    async def undo(self, audit_id, actor, now_ms):
        return await self._change(lambda: self.core.undo(audit_id, actor, now_ms))

    async def list(self, now_ms, options):
        return self.core.entries(
            now_ms,
            kind=options.get("kind"),
            active=bool(options.get("active", True)),
            limit=int(options.get("limit", 500)),
        )

    async def audit(self, limit, before):
        return self.core.audit(limit, tuple(before) if before else None)

    async def count_active(self, now_ms):
        return self.core.count_active(now_ms)

    async def alarm(self, alarm_info):
        result = self.core.expire(host.now_ms())
        await self._arm(result["next_ms"])

    async def _change(self, change):
        try:
            result = change()
        except LedgerError as error:
            return {"error": {"message": str(error), "missing": error.missing}}
        await self._arm(self.core.next_expiry())
        return result

    async def _arm(self, next_ms):
        if next_ms is None:
            await self.ctx.storage.deleteAlarm()
        else:
            await self.ctx.storage.setAlarm(next_ms)
