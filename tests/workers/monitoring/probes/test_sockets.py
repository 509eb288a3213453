"""TCP and WebSocket checks through the socket-connector seam.

On Cloudflare, entry.py installs a connector on `cloudflare:sockets` and WebSocket `fetch`
upgrades. The local runtime has none yet, so these tests install `AsyncioConnector`, the
connector a socket-capable local runtime would provide: real connections to real local servers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import websockets

from monitoring.probes import ProbeContext, ProbeFailure, run, sockets

LOCAL = ProbeContext(env=None, check_id="t", timeout_s=1.0, allow_private=True)


class AsyncioConnector:
    async def tcp_connect(self, host: str, port: int, timeout_s: float) -> None:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
        except OSError as error:
            raise ProbeFailure(f"connection failed: {error.strerror or error}") from None
        writer.close()
        await writer.wait_closed()

    async def websocket_exchange(
        self, url: str, message: str | None, timeout_s: float
    ) -> str | None:
        try:
            async with websockets.connect(url, open_timeout=timeout_s) as socket:
                if message is None:
                    return None
                await socket.send(message)
                reply = await asyncio.wait_for(socket.recv(), timeout_s)
        except (OSError, websockets.InvalidHandshake) as error:
            raise ProbeFailure(f"connection failed: {error}") from None
        return reply if isinstance(reply, str) else reply.decode()


@pytest.fixture
def connector() -> Iterator[None]:
    previous = sockets.installed()  # entry.py may have installed the runtime's connector
    sockets.install(AsyncioConnector())
    yield
    sockets.install(previous)


@pytest.fixture
def no_connector() -> Iterator[None]:
    previous = sockets.installed()
    sockets.install(None)
    yield
    sockets.install(previous)


@pytest.fixture
async def echo_server() -> AsyncIterator[int]:
    async def echo(socket: Any) -> None:
        async for message in socket:
            await socket.send(f"pong: {message}")

    async with websockets.serve(echo, "127.0.0.1", 0) as server:
        yield server.sockets[0].getsockname()[1]


@pytest.mark.anyio
async def test_without_a_connector_socket_checks_fail_clearly(no_connector: None) -> None:
    outcome = await run({"type": "tcp", "host": "127.0.0.1", "port": 5432}, LOCAL)
    assert (outcome.ok, outcome.error) == (False, sockets.NO_CONNECTOR)


@pytest.mark.anyio
async def test_tcp_connects_and_a_closed_port_fails(connector: None, echo_server: int) -> None:
    opened = await run({"type": "tcp", "host": "127.0.0.1", "port": echo_server}, LOCAL)
    assert opened.ok and opened.latency_ms is not None
    closed = await run({"type": "tcp", "host": "127.0.0.1", "port": 9}, LOCAL)
    assert not closed.ok and closed.error is not None
    assert closed.error.startswith("connection failed")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({}, None),
        ({"send": "ping", "expect": "pong"}, None),
        ({"send": "ping", "expect": "hello"}, "reply 'pong: ping' lacks 'hello'"),
    ],
)
@pytest.mark.anyio
async def test_websocket_handshake_and_reply(
    connector: None, echo_server: int, fields: dict[str, Any], error: str | None
) -> None:
    spec = {"type": "websocket", "url": f"ws://127.0.0.1:{echo_server}/live", **fields}
    outcome = await run(spec, LOCAL)
    assert (outcome.ok, outcome.error) == (error is None, error)


@pytest.mark.anyio
async def test_private_socket_targets_are_refused_when_not_allowed(connector: None) -> None:
    public_only = ProbeContext(env=None, check_id="t", timeout_s=1.0, allow_private=False)
    outcome = await run({"type": "tcp", "host": "10.0.0.5", "port": 22}, public_only)
    assert outcome.error == "target refused: 10.0.0.5 is not a public address"
