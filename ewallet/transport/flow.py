"""Flow control of one connection, in uvicorn's pattern: reading and writing paused and resumed
by idempotent methods, and a drain() that waits until the transport takes writes again. The TCP
server uses it; it knows nothing about lines or timeouts."""

from __future__ import annotations

import asyncio


class FlowControl:
    """Whether the transport is read, and whether answers may be written now."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self.read_paused = False
        self.write_paused = False
        self._writable = asyncio.Event()
        self._writable.set()

    def pause_reading(self) -> None:
        if not self.read_paused and not self._transport.is_closing():
            self.read_paused = True
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused and not self._transport.is_closing():
            self.read_paused = False
            self._transport.resume_reading()

    def pause_writing(self) -> None:
        self.write_paused = True
        self._writable.clear()

    def resume_writing(self) -> None:
        self.write_paused = False
        self._writable.set()

    async def drain(self) -> None:
        await self._writable.wait()
