"""The corked transport: a response's writes leave together, in order, and nothing is lost."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from localedge.httpserver import CorkedTransport


class Recorder(asyncio.Transport):
    """What reaches the socket: one entry per system call the real transport would make."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[list[bytes]] = []
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.sent.append([bytes(data)])

    def writelines(self, list_of_data: Any) -> None:
        self.sent.append([bytes(d) for d in list_of_data])

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0


async def next_turn() -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)


@pytest.mark.anyio
async def test_writes_of_one_turn_leave_in_one_call_in_order() -> None:
    real = Recorder()
    corked = CorkedTransport(real, asyncio.get_running_loop())
    corked.write(b"HTTP/1.1 200 OK\r\n\r\n")
    corked.write(b"")
    corked.write(bytearray(b"{}"))
    assert real.sent == []
    assert corked.get_write_buffer_size() == 21
    await next_turn()
    assert real.sent == [[b"HTTP/1.1 200 OK\r\n\r\n", b"{}"]]


@pytest.mark.anyio
async def test_a_stream_leaves_piece_by_piece_one_turn_each() -> None:
    real = Recorder()
    corked = CorkedTransport(real, asyncio.get_running_loop())
    for event in (b"data: 1\n\n", b"data: 2\n\n"):
        corked.write(event)
        await next_turn()
    assert real.sent == [[b"data: 1\n\n"], [b"data: 2\n\n"]]


@pytest.mark.anyio
async def test_close_sends_what_was_written_before_it() -> None:
    real = Recorder()
    corked = CorkedTransport(real, asyncio.get_running_loop())
    corked.writelines([b"a", b"b"])
    corked.close()
    assert (real.sent, real.closed) == ([[b"a", b"b"]], True)
    await next_turn()
    assert real.sent == [[b"a", b"b"]]  # nothing twice


@pytest.mark.anyio
async def test_abort_and_a_gone_peer_drop_what_is_held() -> None:
    real = Recorder()
    corked = CorkedTransport(real, asyncio.get_running_loop())
    corked.write(b"lost")
    real.closed = True  # the client disconnected before the turn ended
    await next_turn()
    corked.write(b"also lost")
    corked.abort()
    await next_turn()
    assert real.sent == []
    assert corked.is_closing()  # everything else is the real transport's
