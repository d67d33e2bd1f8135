"""Closing without losing answers, alone: half-close at once, close only once everything written
has left and the client has gone quiet or closed its side, or at the deadline whatever happens."""

from __future__ import annotations

import asyncio

from ewallet.transport.closing import QUIET_SECONDS, Linger
from tests.transport.fake_transport import FakeTransport


async def closed_within(transport: FakeTransport, seconds: float) -> float | None:
    """Seconds until the transport was closed, or None if it was not within `seconds`."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while loop.time() - start < seconds:
        if transport.closed:
            return loop.time() - start
        await asyncio.sleep(0.01)
    return None


class TestLinger:
    async def test_half_closes_at_once_and_closes_once_the_client_is_quiet(self) -> None:
        loop = asyncio.get_running_loop()
        linger, transport = Linger(loop), FakeTransport()
        linger.begin(transport, loop.time() + 5)
        assert linger.begun and transport.eof_written and not transport.closed
        took = await closed_within(transport, 2)
        assert took is not None and took < QUIET_SECONDS + 0.2

    async def test_input_still_arriving_keeps_it_open(self) -> None:
        loop = asyncio.get_running_loop()
        linger, transport = Linger(loop), FakeTransport()
        linger.begin(transport, loop.time() + 5)
        for _ in range(8):  # a client still pipelining: closing now would reset the connection
            linger.input_seen()
            await asyncio.sleep(QUIET_SECONDS / 4)
        assert not transport.closed
        assert await closed_within(transport, 1) is not None

    async def test_the_clients_end_of_input_lets_it_close_without_waiting_for_quiet(self) -> None:
        loop = asyncio.get_running_loop()
        linger, transport = Linger(loop), FakeTransport()
        linger.input_seen()
        linger.eof_seen()
        assert linger.quiet()
        linger.begin(transport, loop.time() + 5)
        took = await closed_within(transport, 1)
        assert took is not None and took < QUIET_SECONDS

    async def test_waits_for_unsent_answers(self) -> None:
        loop = asyncio.get_running_loop()
        linger, transport = Linger(loop), FakeTransport()
        transport.unsent = 100
        linger.eof_seen()
        linger.begin(transport, loop.time() + 5)
        assert await closed_within(transport, 0.3) is None
        transport.unsent = 0
        assert await closed_within(transport, 0.3) is not None

    async def test_closes_at_the_deadline_whatever_is_left(self) -> None:
        loop = asyncio.get_running_loop()
        linger, transport = Linger(loop), FakeTransport()
        transport.unsent = 100  # a client that never reads
        linger.begin(transport, loop.time() + 0.3)
        took = await closed_within(transport, 2)
        assert took is not None and 0.25 <= took < 0.6

    async def test_a_connection_already_reset_is_aborted(self) -> None:
        loop = asyncio.get_running_loop()
        linger, transport = Linger(loop), FakeTransport(eof_fails=True)
        linger.begin(transport, loop.time() + 5)
        assert transport.aborted and linger.begun

    async def test_without_half_close_it_still_closes_once_delivered(self) -> None:
        loop = asyncio.get_running_loop()
        linger, transport = Linger(loop), FakeTransport(can_write_eof=False)
        linger.eof_seen()
        linger.begin(transport, loop.time() + 5)
        assert not transport.eof_written
        assert await closed_within(transport, 1) is not None
