"""Database connectivity: a configured health endpoint, or a D1/Hyperdrive-style binding.

- `url`: an HTTP health endpoint of the database (or of the service in front of it), judged
  like an HTTP check (status, optional JSON field assertion);
- `binding`: a binding declared in wrangler.toml. A D1 database (it has `prepare`) must answer
  `SELECT 1`; a Hyperdrive config (it has `host` and `port`) must accept a TCP connection
  through the socket connector.
"""

from __future__ import annotations

import time
from typing import Any

from monitoring.probes import ProbeContext, ProbeFailure, elapsed_ms, http, sockets
from monitoring.state import Outcome


async def probe(spec: dict[str, Any], context: ProbeContext) -> Outcome:
    if spec.get("url"):
        return await http.probe({**spec, "method": "GET"}, context)
    name = str(spec["binding"])
    binding = getattr(context.env, name, None)
    if binding is None:
        return Outcome(ok=False, error=f"binding {name} is not configured")
    started = time.perf_counter()
    if callable(getattr(binding, "prepare", None)):
        await _select_one(binding)
    elif getattr(binding, "host", None) and getattr(binding, "port", None):
        connector = sockets.installed()
        await connector.tcp_connect(str(binding.host), int(binding.port), context.timeout_s)
    else:
        return Outcome(ok=False, error=f"binding {name} is neither D1 nor Hyperdrive")
    return Outcome(ok=True, latency_ms=elapsed_ms(started))


async def _select_one(database: Any) -> None:
    try:
        row = await database.prepare("SELECT 1 AS ok").first()
    except Exception as error:
        raise ProbeFailure(f"query failed: {type(error).__name__}: {str(error)[:160]}") from None
    value = row.get("ok") if isinstance(row, dict) else getattr(row, "ok", None)
    if value != 1:
        raise ProbeFailure("SELECT 1 returned no row")
