"""TCP and WebSocket checks through a socket connector the host installs.

Python Workers on Python 3.13 have no raw sockets. On Cloudflare, `entry.py` installs a
connector built on `cloudflare:sockets` (TCP) and a WebSocket upgrade through `fetch`; a host
without one answers every TCP/WebSocket check with a clear failure rather than a crash.
"""

from __future__ import annotations

import time
from typing import Any, Protocol
from urllib.parse import urlsplit

from monitoring import targets
from monitoring.probes import ProbeContext, ProbeFailure, elapsed_ms
from monitoring.state import Outcome

NO_CONNECTOR = "this runtime provides no socket connector for TCP and WebSocket checks"


class Connector(Protocol):
    """What the host provides. Failures raise `ProbeFailure` with a clean message."""

    async def tcp_connect(self, host: str, port: int, timeout_s: float) -> None:
        """Open a TCP connection and close it again."""
        ...

    async def websocket_exchange(
        self, url: str, message: str | None, timeout_s: float
    ) -> str | None:
        """Complete a WebSocket handshake; send `message` if given and return the first reply."""
        ...


class NoSockets:
    async def tcp_connect(self, host: str, port: int, timeout_s: float) -> None:
        raise ProbeFailure(NO_CONNECTOR)

    async def websocket_exchange(
        self, url: str, message: str | None, timeout_s: float
    ) -> str | None:
        raise ProbeFailure(NO_CONNECTOR)


_connector: Connector = NoSockets()


def install(connector: Connector | None) -> None:
    """Use `connector` for every TCP and WebSocket check (None: back to none)."""
    global _connector
    _connector = connector if connector is not None else NoSockets()


def installed() -> Connector:
    return _connector


async def probe_tcp(spec: dict[str, Any], context: ProbeContext) -> Outcome:
    host, port = str(spec["host"]), int(spec["port"])
    if not context.allow_private and (why := targets.host_refusal(host)):
        return Outcome(ok=False, error=f"target refused: {why}")
    started = time.perf_counter()
    await _connector.tcp_connect(host, port, context.timeout_s)
    return Outcome(ok=True, latency_ms=elapsed_ms(started))


async def probe_websocket(spec: dict[str, Any], context: ProbeContext) -> Outcome:
    url = str(spec["url"])
    if not context.allow_private and (why := targets.host_refusal(urlsplit(url).hostname or "")):
        return Outcome(ok=False, error=f"target refused: {why}")
    started = time.perf_counter()
    reply = await _connector.websocket_exchange(url, spec.get("send"), context.timeout_s)
    latency = elapsed_ms(started)
    expect = spec.get("expect")
    if expect is not None and (reply is None or expect not in reply):
        shown = "no reply" if reply is None else f"reply {reply[:80]!r}"
        return Outcome(ok=False, latency_ms=latency, error=f"{shown} lacks {expect!r}")
    return Outcome(ok=True, latency_ms=latency)
