"""A stand-in for the OS socket's asyncio transport, as uvicorn's protocol tests use one: it
records what the connection's parts ask of it. Only our parts are exercised; this is the edge."""

from __future__ import annotations

import asyncio
from typing import Any


class FakeTransport(asyncio.Transport):
    def __init__(self, *, can_write_eof: bool = True, eof_fails: bool = False) -> None:
        super().__init__()
        self.written = bytearray()
        #: Bytes the "kernel" has not taken yet; a test empties it to deliver them.
        self.unsent = 0
        self.read_paused = False
        self.pauses = 0
        self.resumes = 0
        self.eof_written = False
        self.write_limit: int | None = None
        self.closed = False
        self.aborted = False
        self._can_write_eof = can_write_eof
        self._eof_fails = eof_fails

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default  # no socket: nothing unacknowledged to ask the kernel about

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def pause_reading(self) -> None:
        self.read_paused = True
        self.pauses += 1

    def resume_reading(self) -> None:
        self.read_paused = False
        self.resumes += 1

    def is_reading(self) -> bool:
        return not self.read_paused

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def get_write_buffer_size(self) -> int:
        return self.unsent

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.write_limit = high

    def can_write_eof(self) -> bool:
        return self._can_write_eof

    def write_eof(self) -> None:
        if self._eof_fails:
            raise ConnectionResetError("reset by peer")
        self.eof_written = True
