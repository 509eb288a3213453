"""Cloudflare entry point of the monitoring Worker: the only module that imports `workers`.

Durable Objects are thin: `Monitor` (one per check) and `Registry` (one) delegate to the pure
cores in the `monitoring` package. The socket connector for TCP and WebSocket checks uses
`cloudflare:sockets` and a WebSocket `fetch` upgrade, which only exist on Cloudflare.
"""

import asyncio

from monitoring import reports
from monitoring.app import app, schedule
from monitoring.monitor import MonitorCore
from monitoring.probes import ProbeFailure, sockets
from monitoring.registry import RegistryCore, sync_declared
from obs_schema import host
from workers import DurableObject, WorkerEntrypoint, asgi, wait_until

host.install(defer=wait_until)

try:  # present on Cloudflare's runtime SDK, absent from the local shim
    from workers import import_from_javascript
except ImportError:
    import_from_javascript = None


class CloudflareSockets:
    """TCP through `cloudflare:sockets`, WebSocket through a `fetch` upgrade."""

    async def tcp_connect(self, host_name, port, timeout_s):
        from js import Object
        from pyodide.ffi import to_js

        sockets_module = import_from_javascript("cloudflare:sockets")
        address = to_js({"hostname": host_name, "port": port}, dict_converter=Object.fromEntries)
        socket = sockets_module.connect(address)
        try:
            await asyncio.wait_for(socket.opened, timeout_s)
        except TimeoutError:
            raise ProbeFailure(f"timed out after {timeout_s:g} s") from None
        except Exception as error:
            raise ProbeFailure(f"connection failed: {error}"[:200]) from None
        finally:
            await socket.close()

    async def websocket_exchange(self, url, message, timeout_s):
        from pyodide.ffi import create_proxy

        from workers import fetch

        http_url = "http" + url[2:]  # ws:// -> http://, wss:// -> https://
        response = await fetch(http_url, headers={"Upgrade": "websocket"})
        socket = getattr(response.js_object, "webSocket", None)
        if socket is None:
            raise ProbeFailure(f"HTTP {response.status}: no WebSocket upgrade")
        socket.accept()
        try:
            if message is None:
                return None
            reply = asyncio.get_running_loop().create_future()
            listener = create_proxy(lambda event: reply.done() or reply.set_result(str(event.data)))
            socket.addEventListener("message", listener)
            socket.send(message)
            return await asyncio.wait_for(reply, timeout_s)
        finally:
            socket.close(1000, "check done")


if import_from_javascript is not None:
    sockets.install(CloudflareSockets())


class Monitor(DurableObject):
    """One check: its schedule (alarms), state, results and alerts."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.core = MonitorCore(ctx.storage, env)

    async def alarm(self, alarm_info=None):
        await self.core.alarm()

    async def configure(self, spec, created_ms):
        return await self.core.configure(spec, created_ms)

    async def destroy(self):
        await self.core.destroy()

    async def run_now(self):
        return await self.core.run_now()

    async def beat(self, status, message, ping_ms):
        return await self.core.beat(status, message, ping_ms)

    async def ensure(self):
        return await self.core.ensure()

    async def results_page(self, since, until, limit, before):
        return self.core.results_page(since, until, limit, before)

    async def latency(self, since, until):
        return self.core.latency(since, until)

    async def status(self):
        return self.core.status()


class Registry(DurableObject):
    """Every check's definition, current state and incidents."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.core = RegistryCore(ctx.storage.sql)

    async def create(self, spec, source, token_hash, now):
        return self.core.create(spec, source, token_hash, now)

    async def replace(self, spec, now):
        return self.core.replace(spec, now)

    async def delete(self, check_id):
        return self.core.delete(check_id)

    async def get(self, check_id):
        return self.core.get(check_id)

    async def list(self):
        return self.core.all()

    async def set_token(self, check_id, token_hash):
        return self.core.set_token(check_id, token_hash)

    async def by_token(self, token_hash):
        return self.core.by_token(token_hash)

    async def report(self, check_id, report):
        return self.core.report(check_id, report)

    async def overdue(self, now, slack_ms):
        return self.core.overdue(now, slack_ms)

    async def sync_declared(self, specs, digest, now):
        return sync_declared(self.core, specs, digest, now)

    async def incidents(self, query):
        return self.core.incidents(**query)

    async def uptime(self, check_ids, windows, now):
        return reports.uptime(self.core, check_ids, windows, now)

    async def status_page(self, now):
        return reports.status_page(self.core, now)

    async def sla(self, start, end, now):
        return reports.sla(self.core, start, end, now)

    async def snapshot(self, now):
        return reports.snapshot(self.core, now)

    async def names(self):
        return {r["spec"]["id"]: r["spec"]["name"] for r in self.core.all()}

    async def echo(self, nonce):
        return self.core.echo(nonce)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await asgi.fetch(app, request, self.env)

    async def scheduled(self, controller, env, ctx):
        await schedule.run(controller.cron, self.env, controller.scheduledTime)

    async def snapshot(self):
        async with app.state.binding_telemetry.session(self.env) as env:
            return await env.REGISTRY.getByName("registry").snapshot(host.now_ms())
