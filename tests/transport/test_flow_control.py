"""Flow control alone, over a stand-in transport: pausing and resuming are idempotent (the
transport hears each change once), a closing transport is left alone, and drain() waits exactly
while writing is paused."""

from __future__ import annotations

import asyncio

from ewallet.transport.flow import FlowControl
from tests.transport.fake_transport import FakeTransport


class TestReading:
    def test_pausing_twice_pauses_the_transport_once(self) -> None:
        transport = FakeTransport()
        flow = FlowControl(transport)
        flow.pause_reading()
        flow.pause_reading()
        assert flow.read_paused and transport.read_paused and transport.pauses == 1

    def test_resuming_twice_resumes_the_transport_once(self) -> None:
        transport = FakeTransport()
        flow = FlowControl(transport)
        flow.pause_reading()
        flow.resume_reading()
        flow.resume_reading()
        assert not flow.read_paused and not transport.read_paused and transport.resumes == 1

    def test_resuming_what_was_never_paused_changes_nothing(self) -> None:
        transport = FakeTransport()
        flow = FlowControl(transport)
        flow.resume_reading()
        assert transport.resumes == 0

    def test_a_closing_transport_is_neither_paused_nor_resumed(self) -> None:
        transport = FakeTransport()
        flow = FlowControl(transport)
        flow.pause_reading()
        transport.close()
        flow.resume_reading()
        assert flow.read_paused and transport.resumes == 0
        other = FakeTransport()
        other.close()
        FlowControl(other).pause_reading()
        assert other.pauses == 0


class TestWriting:
    async def test_drain_returns_at_once_while_writing_is_allowed(self) -> None:
        flow = FlowControl(FakeTransport())
        await asyncio.wait_for(flow.drain(), 0.1)

    async def test_drain_waits_until_writing_resumes(self) -> None:
        flow = FlowControl(FakeTransport())
        flow.pause_writing()
        flow.pause_writing()
        assert flow.write_paused
        draining = asyncio.create_task(flow.drain())
        await asyncio.sleep(0.02)
        assert not draining.done()
        flow.resume_writing()
        await asyncio.wait_for(draining, 0.1)
        assert not flow.write_paused

    async def test_every_waiting_drain_is_released(self) -> None:
        flow = FlowControl(FakeTransport())
        flow.pause_writing()
        drains = [asyncio.create_task(flow.drain()) for _ in range(3)]
        await asyncio.sleep(0.01)
        flow.resume_writing()
        flow.resume_writing()  # idempotent
        await asyncio.wait_for(asyncio.gather(*drains), 0.1)

    def test_writing_and_reading_are_paused_independently(self) -> None:
        transport = FakeTransport()
        flow = FlowControl(transport)
        flow.pause_writing()
        assert not flow.read_paused and not transport.read_paused
        flow.pause_reading()
        flow.resume_writing()
        assert flow.read_paused and transport.read_paused
