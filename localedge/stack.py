"""The whole local stack: every Worker of the repo, their bindings, clock, cron and alarms.

Storage is shared the way Cloudflare shares it: Workers binding the same KV namespace id or R2
bucket name see the same data; a Durable Object class lives in the Worker that defines it and
other Workers reach it through `script_name`. All state lives under one data directory.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localedge import cron, sdk
from localedge.clock import Clock, SystemClock
from localedge.config import WorkerConfig, load_dev_vars, load_worker_config
from localedge.durable import DurableObjectNamespace, NamespaceIds
from localedge.env import Env
from localedge.errors import ConfigError
from localedge.kv import KVNamespace
from localedge.r2 import R2Bucket
from localedge.remote import Line, ObjectHost, ObjectLine, RemoteNamespace, serve_objects
from localedge.scheduler import Scheduler
from localedge.service import ServiceBinding
from localedge.worker import LoadedWorker, load_worker
from obs_schema import host

log = logging.getLogger("localedge")

# Process environment variables handed to every Worker as secrets (Cloudflare: `wrangler secret`).
SECRET_PREFIXES = ("OBS_",)
SECRET_NAMES = ("SENTRY_DSN",)


@dataclass
class StackOptions:
    root: Path
    data_dir: Path
    clock: Clock = field(default_factory=SystemClock)
    environment: str | None = None
    secrets: dict[str, str] = field(default_factory=dict)
    # Set in a stack whose Durable Objects live elsewhere: the home process's socket (an isolate
    # process, localedge.remote) or a line to them (localedge.homethread), and what to do if the
    # home process goes away.
    home: Path | Line | None = None
    on_home_lost: Callable[[], None] | None = None


ROUTES_REMEMBERED = 4096
_RUNNING: dict[asyncio.AbstractEventLoop, Stack] = {}  # the stack started on each event loop


class Stack:
    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.clock = options.clock
        self.scheduler = Scheduler(self.clock)
        self.workers: dict[str, LoadedWorker] = {}
        self.kv: dict[str, KVNamespace] = {}
        self.r2: dict[str, R2Bucket] = {}
        self.durable: dict[tuple[str, str], DurableObjectNamespace] = {}  # hosted here
        self._remote: dict[tuple[str, str], RemoteNamespace] = {}  # hosted by the home
        self._line = (
            ObjectLine(options.home, options.on_home_lost)
            if isinstance(options.home, Path)
            else options.home
        )
        self._background: set[asyncio.Task[Any]] = set()
        self._routes: dict[str, LoadedWorker | None] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self, *, run_timers: bool = True) -> None:
        """Load every Worker and bind it. `run_timers=False` leaves time to `advance()`."""
        host.install(clock=self.clock.now)
        sdk.background = self.defer
        self._loop = asyncio.get_running_loop()
        _RUNNING[self._loop] = self
        for config in discover(self.options.root, self.options.environment):
            self.workers[config.name] = load_worker(config, self.defer)
        self._routes.clear()
        for worker in self.workers.values():
            self._create_storage(worker.config)
        for worker in self.workers.values():
            worker.env = self._build_env(worker.config)
        for (worker_name, _), namespace in self.durable.items():
            namespace.env = self.workers[worker_name].env
            await namespace.restore()
        if self._line is None:
            self._arm_crons()
        else:  # an isolate leaves crons to the home, as it leaves alarms and objects
            await self._line.open()
        if run_timers:
            self._loop_task = asyncio.create_task(self.scheduler.run_forever())

    async def close(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        await self.drain()
        for namespace in self.durable.values():
            await namespace.close()
        if self._line is not None:
            await self._line.close()
        for kv in self.kv.values():
            kv.close()
        for bucket in self.r2.values():
            bucket.close()
        if self._loop is not None and _RUNNING.get(self._loop) is self:
            del _RUNNING[self._loop]
        sdk.background = None
        host.reset()

    # --- time, cron, background work ----------------------------------------------------------
    def defer(self, work: host.Deferred) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop and (other := _RUNNING.get(loop)) is not None:
            # `waitUntil` is process-wide (sdk.background); with a home stack on a thread of
            # its own (localedge.homethread), work belongs to the stack of the loop it runs on.
            other.defer(work)
            return
        task = loop.create_task(self._guarded(work))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait until every `waitUntil` task (and what those started) has finished."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def advance(self, seconds: float) -> None:
        """Move a ManualClock forward, firing due alarms and crons, then drain background work."""
        await self.scheduler.advance(seconds)
        await self.drain()

    async def trigger_cron(self, cron_expression: str, worker: str | None = None) -> list[str]:
        """Run `scheduled` now on every Worker (or the named one) declaring that cron."""
        fired = []
        for target in self._cron_targets(cron_expression, worker):
            await target.scheduled(cron_expression, int(self.clock.now() * 1000))
            fired.append(target.name)
        return fired

    # --- lookup -------------------------------------------------------------------------------
    def worker(self, name: str) -> LoadedWorker:
        try:
            return self.workers[name]
        except KeyError:
            raise ConfigError(f"no Worker named {name!r}") from None

    def route(self, path: str) -> LoadedWorker | None:
        """The Worker whose route pattern matches `path`; the most specific pattern wins.
        Remembered per path (bounded: paths carry ids): every request asks."""
        try:
            return self._routes[path]
        except KeyError:
            pass
        if len(self._routes) >= ROUTES_REMEMBERED:
            self._routes.clear()
        found = self._routes[path] = self._match_route(path)
        return found

    def _match_route(self, path: str) -> LoadedWorker | None:
        best: tuple[int, LoadedWorker] | None = None
        for worker in self.workers.values():
            for pattern in worker.config.route_paths:
                if _matches(pattern, path) and (best is None or len(pattern) > best[0]):
                    best = (len(pattern), worker)
        return best[1] if best else None

    # --- construction -------------------------------------------------------------------------
    def _create_storage(self, config: WorkerConfig) -> None:
        data = self.options.data_dir
        for kv in config.kv_namespaces:
            if kv.id not in self.kv:
                self.kv[kv.id] = KVNamespace(data / "kv" / f"{_safe(kv.id)}.sqlite", self.clock)
        for r2 in config.r2_buckets:
            if r2.bucket_name not in self.r2:
                self.r2[r2.bucket_name] = R2Bucket(data / "r2" / _safe(r2.bucket_name), self.clock)
        worker = self.workers[config.name]
        for spec in config.durable_objects:
            key = (config.name, spec.class_name)
            if spec.script_name is not None:
                continue
            if self._line is not None:
                self._remote[key] = RemoteNamespace(config.name, spec.class_name, self._line)
            elif key not in self.durable:
                self.durable[key] = DurableObjectNamespace(
                    worker=config.name,
                    class_name=spec.class_name,
                    cls=worker.durable_class(spec.class_name),
                    root=data / "do" / _safe(config.name) / _safe(spec.class_name),
                    clock=self.clock,
                    scheduler=self.scheduler,
                )

    def _build_env(self, config: WorkerConfig) -> Env:
        values: dict[str, Any] = {k: v for k, v in config.vars.items()}
        values.update(self._secrets(config))
        values.update({kv.binding: self.kv[kv.id] for kv in config.kv_namespaces})
        values.update({r2.binding: self.r2[r2.bucket_name] for r2 in config.r2_buckets})
        for spec in config.durable_objects:
            owner = spec.script_name or config.name
            namespace = self._namespace(owner, spec.class_name)
            if namespace is None:
                raise ConfigError(
                    f"{config.name}: {spec.binding} -> unknown {owner}.{spec.class_name}"
                )
            values[spec.binding] = namespace
        for service in config.services:
            if service.service not in self.workers:
                raise ConfigError(
                    f"{config.name}: service binding {service.binding} -> "
                    f"unknown Worker {service.service!r}"
                )
            values[service.binding] = ServiceBinding(
                functools.partial(self.worker, service.service), service.entrypoint
            )
        return Env(values)

    def _namespace(self, worker: str, class_name: str) -> NamespaceIds | None:
        key = (worker, class_name)
        return self.durable.get(key) or self._remote.get(key)

    async def serve_objects(self, path: Path) -> ObjectHost:
        """Host this stack's Durable Objects for isolate processes (localedge.remote)."""
        return await serve_objects(self.durable, path)

    def _secrets(self, config: WorkerConfig) -> dict[str, str]:
        secrets = load_dev_vars(self.options.root / ".dev.vars")
        secrets.update(load_dev_vars(config.root / ".dev.vars"))
        secrets.update(
            (k, v)
            for k, v in os.environ.items()
            if k.startswith(SECRET_PREFIXES) or k in SECRET_NAMES
        )
        secrets.update(self.options.secrets)
        return secrets

    def _arm_crons(self) -> None:
        for worker in self.workers.values():
            for expression in worker.config.crons:
                self._arm_cron(worker, expression)

    def _arm_cron(self, worker: LoadedWorker, expression: str) -> None:
        due = cron.next_fire(expression, self.clock.now())

        async def fire() -> None:
            self._arm_cron(worker, expression)
            await worker.scheduled(expression, int(due * 1000))

        self.scheduler.at(due, f"cron:{worker.name}:{expression}", fire)

    def _cron_targets(self, expression: str, worker: str | None) -> list[LoadedWorker]:
        candidates = [self.worker(worker)] if worker else list(self.workers.values())
        return [w for w in candidates if expression in w.config.crons]

    @staticmethod
    async def _guarded(work: host.Deferred) -> None:
        try:
            await work
        except Exception:
            log.exception("waitUntil task failed")


def discover(root: Path, environment: str | None = None) -> Iterable[WorkerConfig]:
    """Every Worker under `<root>/workers/*/wrangler.toml`, in name order."""
    for path in sorted((root / "workers").glob("*/wrangler.toml")):
        yield load_worker_config(path, environment)


def _matches(pattern: str, path: str) -> bool:
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
