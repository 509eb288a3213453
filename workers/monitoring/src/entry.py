"""Cloudflare entry point of the monitoring Worker: the only module that imports `workers`."""

from monitoring.app import app, schedule
from obs_schema import host
from workers import WorkerEntrypoint, asgi, wait_until

host.install(defer=wait_until)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await asgi.fetch(app, request, self.env)

    async def scheduled(self, controller, env, ctx):
        await schedule.run(controller.cron, self.env, controller.scheduledTime)
