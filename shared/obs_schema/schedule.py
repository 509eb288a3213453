"""Cron work of a Worker: jobs registered per cron expression, run by `scheduled()`.

wrangler.toml's `[triggers] crons` says *when* Cloudflare calls the Worker; this registry says
*what* runs for each expression, so `entry.py` stays a one-line bridge.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from obs_schema.telemetry.hub import Telemetry

Job = Callable[[Any, int], Awaitable[None]]  # (env, scheduled_time_ms)
log = logging.getLogger("obs.schedule")


@dataclass
class Schedule:
    jobs: dict[str, list[Job]] = field(default_factory=dict)
    # When set, the jobs' binding calls are timed as a request's are (the middleware only
    # sees fetch).
    telemetry: Telemetry | None = None

    def job(self, cron: str) -> Callable[[Job], Job]:
        """Decorator: run the function whenever the trigger `cron` fires."""

        def register(function: Job) -> Job:
            self.jobs.setdefault(cron, []).append(function)
            return function

        return register

    @property
    def crons(self) -> list[str]:
        return sorted(self.jobs)

    async def run(self, cron: str, env: Any, scheduled_time_ms: int) -> int:
        """Run every job of `cron`; one failing job does not stop the others. Returns failures."""
        if self.telemetry is None:
            return await self._run(cron, env, scheduled_time_ms)
        async with self.telemetry.session(env) as observed:
            return await self._run(cron, observed, scheduled_time_ms)

    async def _run(self, cron: str, env: Any, scheduled_time_ms: int) -> int:
        failures = 0
        for job in self.jobs.get(cron, []):
            try:
                await job(env, scheduled_time_ms)
            except Exception:
                failures += 1
                log.exception("cron job %s for %r failed", getattr(job, "__name__", job), cron)
        return failures
