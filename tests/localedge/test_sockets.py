"""The local SDK backs `cloudflare:sockets` and WebSocket upgrades with real loopback sockets."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import ServerConnection, serve

from localedge import sdk
from localedge.worker import install_sdk


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    async def echo(connection: ServerConnection) -> None:
        async for message in connection:
            await connection.send(f"echo {message}")

    async with serve(echo, "127.0.0.1", 0) as server:
        yield int(server.sockets[0].getsockname()[1])


@pytest.mark.anyio
async def test_tcp_connect_opens_to_a_listening_port_and_fails_on_a_closed_one(
    echo_port: int,
) -> None:
    sockets = sdk.import_from_javascript("cloudflare:sockets")
    opened = sockets.connect({"hostname": "127.0.0.1", "port": echo_port})
    assert await asyncio.wait_for(opened.opened, 10) == {"remoteAddress": f"127.0.0.1:{echo_port}"}
    await opened.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    refused = sockets.connect({"hostname": "127.0.0.1", "port": closed})
    with pytest.raises(OSError):
        await asyncio.wait_for(refused.opened, 10)
    await refused.close()


@pytest.mark.anyio
async def test_a_websocket_upgrade_yields_a_socket_that_sends_and_receives(echo_port: int) -> None:
    response = await sdk.fetch(f"http://127.0.0.1:{echo_port}/x", headers={"Upgrade": "websocket"})
    assert response.status == 101
    ws = response.js_object.webSocket
    ws.accept()
    reply: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    ws.addEventListener("message", lambda event: reply.done() or reply.set_result(event.data))
    ws.send("hi")
    assert await asyncio.wait_for(reply, 10) == "echo hi"
    ws.close(1000, "done")


@pytest.mark.anyio
async def test_a_failed_upgrade_has_no_socket() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    response = await sdk.fetch(f"http://127.0.0.1:{closed}/", headers={"Upgrade": "websocket"})
    assert response.status >= 400 and response.js_object.webSocket is None


def test_entry_files_can_import_js_and_pyodide_ffi_and_unknown_modules_fail() -> None:
    install_sdk()
    from js import Object  # type: ignore[import-not-found]
    from pyodide.ffi import create_proxy, to_js  # type: ignore[import-not-found]

    assert to_js({"a": 1}, dict_converter=Object.fromEntries) == {"a": 1}
    assert create_proxy(len)("ab") == 2
    with pytest.raises(ImportError, match="cloudflare:email"):
        sdk.import_from_javascript("cloudflare:email")
