"""A Worker loaded from its wrangler.toml and entry file, as workerd loads it.

The entry module is executed with our `workers` SDK shim in place, then introspected like
workerd does: `Default` is the default entrypoint, other `WorkerEntrypoint` subclasses are
named entrypoints, `DurableObject` subclasses are Durable Object classes. A module-level `app`
(the Worker's ASGI app) lets the runtime serve HTTP without a Request/Response round trip.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from localedge import sdk
from localedge.config import WorkerConfig
from localedge.errors import ConfigError
from obs_schema import host

Background = Callable[[host.Deferred], None]


@dataclass
class ScheduledController:
    cron: str
    scheduledTime: int

    def noRetry(self) -> None:
        """Cloudflare retries failed cron invocations only on request; nothing to undo here."""


class ExecutionContext:
    def __init__(self, background: Background) -> None:
        self._background = background
        self.props: dict[str, Any] = {}

    def waitUntil(self, work: host.Deferred) -> None:
        self._background(work)

    def passThroughOnException(self) -> None:
        """No origin to fall back to locally."""


class LoadedWorker:
    def __init__(self, config: WorkerConfig, module: ModuleType, background: Background) -> None:
        self.config = config
        self.module = module
        self.background = background
        self.env: Any = None  # set by the stack once every binding exists
        self.app: Any = getattr(module, "app", None)

    @property
    def name(self) -> str:
        return self.config.name

    def classes_of(self, base: type) -> dict[str, type]:
        members = vars(self.module)
        public = getattr(self.module, "__all__", [n for n in members if not n.startswith("_")])
        return {
            n: members[n]
            for n in public
            if isinstance(members.get(n), type)
            and issubclass(members[n], base)
            and members[n] is not base
        }

    def durable_class(self, class_name: str) -> type:
        classes = self.classes_of(sdk.DurableObject)
        if class_name not in classes:
            raise ConfigError(
                f"{self.name}: Durable Object class '{class_name}' is not exported by "
                f"{self.config.main.name}"
            )
        return classes[class_name]

    def entrypoint(self, name: str | None = None) -> Any:
        """A fresh entrypoint instance, as Cloudflare creates one per invocation."""
        classes = self.classes_of(sdk.WorkerEntrypoint)
        cls = classes.get(name or "Default")
        if cls is None:
            raise ConfigError(f"{self.name}: no entrypoint class '{name or 'Default'}'")
        return cls(ExecutionContext(self.background), self.env)

    async def scheduled(self, cron: str, scheduled_ms: int) -> None:
        ctx = ExecutionContext(self.background)
        entry = self.entrypoint()
        await entry.scheduled(ScheduledController(cron, scheduled_ms), self.env, ctx)


def load_worker(config: WorkerConfig, background: Background) -> LoadedWorker:
    install_sdk()
    source_root = str(config.main.parent)
    # The Worker's own package stays cached across stacks, like modules in a warm isolate:
    # re-importing it would split class identities for code that imported it before.
    if source_root not in sys.path:
        sys.path.insert(0, source_root)
    module_name = f"_localedge_entry_{config.name.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(module_name, config.main)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{config.name}: cannot load {config.main}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return LoadedWorker(config, module, background)


def install_sdk() -> None:
    """Make `import workers` / `from workers import asgi` resolve to the local shim."""
    sys.modules["workers"] = sdk
    sys.modules["workers.asgi"] = sdk.asgi
    sys.modules.setdefault("asgi", sdk.asgi)
    # Entry files reach JavaScript APIs through these; CPython has no real ones.
    sys.modules.setdefault("js", sdk.sockets.js)
    sys.modules.setdefault("pyodide", sdk.sockets.pyodide)
    sys.modules.setdefault("pyodide.ffi", sdk.sockets.pyodide_ffi)
