"""Probes: one adapter per check type behind one small interface.

A probe takes the check's spec (a validated dict) and a `ProbeContext`, and returns an
`Outcome`; it never raises for anything the target does. `run` adds the timeout and turns
unexpected errors into failed outcomes, so a broken probe is a failed check, not a dead monitor.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from monitoring.state import Outcome

# Leeway beyond the check's own timeout for the probe to report its own timeout first.
TIMEOUT_MARGIN_S = 0.5


class ProbeFailure(Exception):
    """A failure a probe reports with a clean message (no stack trace, no secret)."""


@dataclass(frozen=True)
class ProbeContext:
    env: Any
    check_id: str
    timeout_s: float
    allow_private: bool


Probe = Callable[[dict[str, Any], ProbeContext], Awaitable[Outcome]]


def _table() -> dict[str, Probe]:
    # Imported here so that each adapter module can import ProbeContext from this one.
    from monitoring.probes import database, dns, http, internal, sockets

    return {
        "http": http.probe,
        "dns": dns.probe,
        "tcp": sockets.probe_tcp,
        "websocket": sockets.probe_websocket,
        "database": database.probe,
        "internal": internal.probe,
    }


async def run(spec: dict[str, Any], context: ProbeContext) -> Outcome:
    """Run the probe for `spec["type"]` within the check's timeout."""
    probe = _table().get(str(spec.get("type")))
    if probe is None:
        return Outcome(ok=False, error=f"no probe for check type {spec.get('type')!r}")
    started = time.perf_counter()
    try:
        return await asyncio.wait_for(probe(spec, context), context.timeout_s + TIMEOUT_MARGIN_S)
    except TimeoutError:
        return Outcome(ok=False, error=f"timed out after {context.timeout_s:g} s", latency_ms=None)
    except ProbeFailure as failure:
        return Outcome(ok=False, error=str(failure), latency_ms=elapsed_ms(started))
    except Exception as error:  # a probe bug must not kill the monitor
        return Outcome(ok=False, error=f"probe error: {type(error).__name__}")


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
