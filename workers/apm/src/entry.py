"""Cloudflare entry point of the apm Worker: the only module that imports `workers`."""

from apm.app import app, schedule
from obs_schema import host
from workers import WorkerEntrypoint, asgi, wait_until

host.install(defer=wait_until)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await asgi.fetch(app, request, self.env)

    async def scheduled(self, controller, env, ctx):
        await schedule.run(controller.cron, self.env, controller.scheduledTime)
