"""Small parts of a connection, each testable alone: flow control (uvicorn's pattern: idempotent
pause and resume, a drain that waits), the frame timer, and closing without losing what was
written. The TCP server and the HTTP face both use them."""

from __future__ import annotations

import asyncio
import fcntl
import struct
import termios
from collections.abc import Callable

#: A connection being closed by the server closes once the client has every byte and has sent
#: nothing for this long (or has closed its side): closing while input still arrives makes the
#: kernel reset the connection, and a reset can cost the client data it has not read yet.
QUIET_SECONDS = 0.2


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


class FrameTimer:
    """The frame timeout (§1): a request must be complete within `timeout` seconds of its own
    first byte, else `on_expired` runs. The clock stops while paused: when the server itself is
    not reading (its queue is full, or the client's answers are unsent), the client cannot
    complete its request, and that time is not held against it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float, on_expired: Callable[[], None]) -> None:
        self._loop = loop
        self._timeout = timeout
        self._on_expired = on_expired
        #: Seconds left for the pending request; None when no request is pending.
        self._remaining: float | None = None
        self._deadline = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self.paused = False

    @property
    def running(self) -> bool:
        return self._handle is not None

    def start(self) -> None:
        """A new request began: it gets the whole timeout, whatever the previous one used."""
        self._remaining = self._timeout
        self._arm()

    def stop(self) -> None:
        """No request is pending."""
        self._remaining = None
        self._disarm()

    def pause(self) -> None:
        if self.paused:
            return
        self.paused = True
        if self._handle is not None:
            self._remaining = max(self._deadline - self._loop.time(), 0.0)
            self._disarm()

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            self._arm()

    def _arm(self) -> None:
        self._disarm()
        if self._remaining is not None and not self.paused:
            self._deadline = self._loop.time() + self._remaining
            self._handle = self._loop.call_at(self._deadline, self._expire)

    def _disarm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _expire(self) -> None:
        self._handle = None
        self._remaining = None
        self._on_expired()


def unacknowledged(transport: asyncio.BaseTransport) -> int:
    """Bytes written to the socket that the peer has not acknowledged (Linux SIOCOUTQ); 0 where
    the platform cannot tell."""
    sock = transport.get_extra_info("socket")
    if sock is None or not hasattr(termios, "TIOCOUTQ"):
        return 0
    try:
        return int(struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0])
    except (OSError, ValueError):  # closed meanwhile
        return 0


def half_close(transport: asyncio.Transport) -> bool:
    """Send our end of stream once the buffer is written. False (and the connection is aborted)
    when the client has already reset it."""
    try:
        if transport.can_write_eof():
            transport.write_eof()
    except OSError:
        transport.abort()
        return False
    return True


def close_when_delivered(
    loop: asyncio.AbstractEventLoop, transport: asyncio.Transport, deadline: float, quiet: Callable[[], bool]
) -> None:
    """Close `transport` once everything written to it is acknowledged by the client and
    `quiet()` says no more input is coming, or at `deadline`. Closing at once would lose
    answers: with input unread the kernel resets the connection and drops what the client has
    not received yet, and a buffer still unwritten is gone if the process exits."""
    if transport.is_closing():
        return
    delivered = transport.get_write_buffer_size() == 0 and unacknowledged(transport) == 0
    if (delivered and quiet()) or loop.time() >= deadline:
        transport.close()
        return
    loop.call_later(0.02, close_when_delivered, loop, transport, deadline, quiet)
