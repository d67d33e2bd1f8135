"""Connection wired from its parts, over a stand-in transport and a real LineServer that is never
bound: pipelined lines answered in order, the queue's water marks and unsent answers pausing
and resuming reading, an oversized line answered and skipped, end of input answered then closed.
The same behaviour over a real socket is in tests/wire."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable

import pytest

from ewallet.settings import Settings
from ewallet.transport.line_queue import MAX_QUEUED_LINES
from ewallet.transport.server import Connection, LineServer
from tests.transport.fake_transport import FakeTransport


class Handler:
    """Answers a line with its upper case, once `gate` is open."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.gate.set()
        self.seen: list[bytes] = []

    async def __call__(self, line: bytes, peer: str, channel: object = None) -> bytes:
        self.seen.append(line)
        await self.gate.wait()
        return line.upper() + b"\n"


class Wired:
    def __init__(self, connection: Connection, transport: FakeTransport, handler: Handler) -> None:
        self.connection, self.transport, self.handler = connection, transport, handler

    async def until(self, condition: Callable[[], object], seconds: float = 1.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not condition():
            assert loop.time() < deadline, "timed out"
            await asyncio.sleep(0.001)


@pytest.fixture
async def wired() -> AsyncIterator[Wired]:
    handler = Handler()
    settings = dataclasses.replace(Settings(), max_frame=16, idle_timeout=30.0, frame_timeout=30.0)
    connection = Connection(LineServer(settings, handler))
    transport = FakeTransport()
    connection.connection_made(transport)
    yield Wired(connection, transport, handler)
    handler.gate.set()
    connection.connection_lost(None)
    if connection.task is not None:
        await asyncio.gather(connection.task, return_exceptions=True)


class TestConnection:
    async def test_answers_pipelined_lines_in_order(self, wired: Wired) -> None:
        wired.connection.data_received(b"one\ntw")
        wired.connection.data_received(b"o\r\n\nthree\n")
        await wired.until(lambda: wired.transport.written.count(b"\n") == 3)
        assert bytes(wired.transport.written) == b"ONE\nTWO\nTHREE\n"
        assert wired.transport.write_limit == wired.connection.settings.max_unsent

    async def test_a_full_queue_pauses_reading_until_it_is_half_empty(self, wired: Wired) -> None:
        wired.handler.gate.clear()
        wired.connection.data_received(b"x\n" * (MAX_QUEUED_LINES + 1))
        await wired.until(lambda: wired.handler.seen)
        assert wired.connection.reading_paused and wired.transport.read_paused
        wired.handler.gate.set()
        await wired.until(lambda: not wired.transport.read_paused)
        assert len(wired.connection.queue) < MAX_QUEUED_LINES // 2
        await wired.until(lambda: wired.transport.written.count(b"\n") == MAX_QUEUED_LINES + 1)

    async def test_unsent_answers_pause_reading_until_they_are_written(self, wired: Wired) -> None:
        wired.connection.pause_writing()
        assert wired.transport.read_paused
        wired.connection.resume_writing()
        assert not wired.transport.read_paused

    async def test_an_oversized_line_is_answered_and_the_next_one_served(self, wired: Wired) -> None:
        wired.connection.data_received(b"a" * 40 + b"\nnext\n")
        await wired.until(lambda: b"NEXT\n" in wired.transport.written)
        first, second = bytes(wired.transport.written).splitlines()
        assert b"frame_too_large" in first and second == b"NEXT"
        assert not wired.transport.is_closing()

    async def test_end_of_input_answers_the_last_line_then_closes(self, wired: Wired) -> None:
        wired.connection.data_received(b"one\nno newline")
        assert wired.connection.eof_received() is True  # our side stays open for the answers
        await wired.until(lambda: wired.transport.closed)
        assert bytes(wired.transport.written) == b"ONE\nNO NEWLINE\n"

    async def test_idle_connection_closes_after_the_idle_timeout(self) -> None:
        settings = dataclasses.replace(Settings(), idle_timeout=0.1)
        connection = Connection(LineServer(settings, Handler()))
        transport = FakeTransport()
        connection.connection_made(transport)
        await asyncio.sleep(0.3)
        assert transport.closed
        connection.connection_lost(None)
        assert connection.task is not None
        await asyncio.gather(connection.task, return_exceptions=True)
