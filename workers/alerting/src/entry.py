"""Cloudflare entry point of the alerting Worker: the only module that imports `workers`."""

from alerting import ingestion, intake
from alerting.app import app, metrics, schedule
from alerting.client import Hub
from alerting.hub.core import HubCore
from obs_schema import host
from workers import DurableObject, WorkerEntrypoint, asgi, wait_until

host.install(defer=wait_until)


class AlertHub(DurableObject):
    """Every alert, group, silence, notification and incident: strongly consistent state."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.core = HubCore(ctx.storage, env)

    async def call(self, op, args):
        return await self.core.call(op, args)

    async def alarm(self, alarm_info=None):
        await self.core.alarm()


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await asgi.fetch(app, request, self.env)

    async def scheduled(self, controller, env, ctx):
        await schedule.run(controller.cron, self.env, controller.scheduledTime)

    async def receive_alerts(self, events):
        """The contract in obs_schema/alertsink.py: AlertEvent dicts in, a tally out."""
        items = events if isinstance(events, list) else []
        accepted, rejected = intake.validate(items)
        async with app.state.binding_telemetry.session(self.env) as env:
            return await ingestion.ingest(env, accepted, rejected, "rpc", metrics)

    async def snapshot(self):
        async with app.state.binding_telemetry.session(self.env) as env:
            return await Hub(env).call("snapshot")
