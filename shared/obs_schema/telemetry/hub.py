"""Per-Worker telemetry: wraps `env` per request, records, and ships batches after responses.

`Telemetry` is made once per app (see `obs_schema.app`). For each request the instrumentation
middleware calls `start()` (which also wraps `env`) and `finish()`; `finish()` records the
invocation (wall time, status, subrequests, colo) and, when a batch is due, hands shipping to
`host.defer` (Cloudflare's `waitUntil`), so the response never waits for it. Entry points the
middleware does not see (cron, RPC methods, Durable Object methods) use `session(env)`.

Batches go to the infra Worker over its service binding: `await env.INFRA.record_telemetry(batch)`.
A Worker may instead set `sink` (the infra Worker stores its own telemetry in-process). A batch
that cannot be delivered is dropped and counted, and the count travels with the next batch.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from obs_schema import host
from obs_schema.metrics import Counter, Registry
from obs_schema.telemetry.bindings import KINDS, InstrumentedEnv
from obs_schema.telemetry.recorder import DEFAULT_MAX_KEYS, Recorder

INFRA_BINDING = "INFRA"
FLUSH_INTERVAL_SECONDS = 10.0
FLUSH_AT_KEYS = 500
_COLO = re.compile(r"-([A-Z]{3,4})$")
log = logging.getLogger("obs.telemetry")

LocalSink = Callable[[Any, dict[str, Any]], Awaitable[None]]


@dataclass
class Invocation:
    started: float
    colo: str
    subrequests: int = 0
    token: contextvars.Token[Invocation | None] | None = None


_current: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar(
    "obs_invocation", default=None
)


@dataclass
class Shipping:
    batches: int = 0
    failed: int = 0
    dropped: int = 0
    last_error: str | None = None
    in_flight: int = 0


@dataclass
class Telemetry:
    worker: str
    kinds: Mapping[str, str] = field(default_factory=dict)  # binding -> probe kind
    interval: float = FLUSH_INTERVAL_SECONDS
    sink: LocalSink | None = None
    max_keys: int = DEFAULT_MAX_KEYS
    registry: Registry | None = None

    def __post_init__(self) -> None:
        self.recorder = Recorder(self.worker, self.max_keys)
        self.shipping = Shipping()
        self._batches = Counter(
            "telemetry_batches_total",
            "Binding telemetry batches shipped to the infra Worker, by result.",
            ("result",),
            registry=self.registry,
        )
        self._dropped = Counter(
            "telemetry_dropped_total",
            "Binding and invocation observations dropped instead of shipped, by reason.",
            ("reason",),
            registry=self.registry,
        )
        self._last_flush = float("-inf")
        self._kinds = {n: KINDS[k] for n, k in self.kinds.items() if k in KINDS}
        self._envs: dict[int, tuple[Any, InstrumentedEnv]] = {}

    def reset(self) -> None:
        """Forget pending observations and shipping state (an isolate starting afresh)."""
        self.recorder = Recorder(self.worker, self.max_keys)
        self.shipping = Shipping()
        self.interval = FLUSH_INTERVAL_SECONDS
        self._last_flush = float("-inf")
        self._envs.clear()

    # --- per request ------------------------------------------------------------------------
    def start(self, cf_ray: str | None) -> Invocation:
        invocation = Invocation(host.now(), colo_of(cf_ray))
        invocation.token = _current.set(invocation)
        return invocation

    def wrap_env(self, env: Any) -> Any:
        found = self._envs.get(id(env))
        if found is not None and found[0] is env:
            return found[1]
        wrapped = InstrumentedEnv(env, self, self._kinds)
        if len(self._envs) >= 8:  # Cloudflare may hand a fresh env each time: stay bounded
            self._envs.clear()
        self._envs[id(env)] = (env, wrapped)
        return wrapped

    def finish(self, invocation: Invocation, status: int, env: Any) -> None:
        if invocation.token is not None:
            # A service-binding call runs the callee in the caller's task: restore the caller's.
            _current.reset(invocation.token)
            invocation.token = None
        try:
            now = host.now()
            self.recorder.invocation(
                now, status, invocation.colo, now - invocation.started, invocation.subrequests
            )
            if self.due(now):
                self.flush(env, now)
        except Exception:
            self.recorder.dropped["internal"] += 1
            log.exception("telemetry could not record an invocation")

    @contextlib.asynccontextmanager
    async def session(self, env: Any) -> AsyncIterator[Any]:
        """`env` with its binding calls timed, for work outside a fetch; ships what is due
        afterwards. Shipping uses the plain `env`, so storing telemetry is not itself timed,
        and telemetry never stops the work it observes."""
        try:
            wrapped = self.wrap_env(env)
        except Exception:
            self.recorder.dropped["internal"] += 1
            wrapped = env
        try:
            yield wrapped
        finally:
            try:
                if self.due(host.now()):
                    self.flush(env)
            except Exception:
                self.recorder.dropped["internal"] += 1

    # --- the Sink protocol (called by the binding wrappers) ----------------------------------
    def op(
        self, kind: str, binding: str, op: str, outcome: str, seconds: float, nbytes: int
    ) -> None:
        try:
            self.recorder.op(host.now(), kind, binding, op, outcome, seconds, nbytes)
            current = _current.get()
            if current is not None:
                current.subrequests += 1
        except Exception:
            self.recorder.dropped["internal"] += 1

    # --- shipping ---------------------------------------------------------------------------
    def due(self, now: float) -> bool:
        return now - self._last_flush >= self.interval or len(self.recorder) >= FLUSH_AT_KEYS

    def flush(self, env: Any, now: float | None = None) -> None:
        """Take the pending batch and ship it after the response (`waitUntil`)."""
        self._last_flush = host.now() if now is None else now
        batch = self.recorder.drain()
        if batch is None:
            return
        for reason, count in batch["dropped"].items():
            self._dropped.labels(reason=reason).inc(count)
        self.shipping.in_flight += 1
        host.defer(self._ship(env, batch))

    async def _ship(self, env: Any, batch: dict[str, Any]) -> None:
        try:
            if self.sink is not None:
                await self.sink(env, batch)
            else:
                binding = getattr(env, INFRA_BINDING, None)
                if binding is None:
                    self._lost(batch, "no_binding", "no INFRA service binding")
                    return
                await binding.record_telemetry(batch)
            self.shipping.batches += 1
            self._batches.labels(result="shipped").inc()
        except Exception as error:
            self._lost(batch, "ship_failed", f"{type(error).__name__}: {error}"[:200])
        finally:
            self.shipping.in_flight -= 1

    def _lost(self, batch: dict[str, Any], reason: str, message: str) -> None:
        observations = sum(row[5] for row in batch["ops"]) + sum(
            row[3] for row in batch["invocations"]
        )
        self.recorder.dropped[reason] += observations
        self.shipping.failed += 1
        self.shipping.dropped += observations
        self.shipping.last_error = message
        self._batches.labels(result="failed").inc()
        log.warning("telemetry batch of %d observations dropped: %s", observations, message)


def colo_of(cf_ray: str | None) -> str:
    """The edge location in a `CF-Ray` header (`8f1a2b3c4d5e6f70-LHR`); "local" off the edge."""
    if not cf_ray:
        return "local"
    found = _COLO.search(cf_ray.strip())
    return found.group(1) if found else "unknown"
