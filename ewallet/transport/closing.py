"""Closing a connection without losing what was written to it: half-close, then close once the
client has every byte and has gone quiet. The TCP server and the HTTP face both use it."""

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


class Linger:
    """The server's side of a graceful close: what the client is still sending is watched (the
    protocol reports input and end of input), so that, once begun, the close waits until the
    client has every answer and has gone quiet or closed its side, or until the deadline."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.last_input = loop.time()
        #: The client closed its side: it sends nothing more, so closing cannot cause a reset.
        self.peer_eof = False
        #: Half-closed by us: the last answers are being delivered while input is discarded.
        self.begun = False

    def input_seen(self) -> None:
        self.last_input = self._loop.time()

    def eof_seen(self) -> None:
        self.peer_eof = True

    def quiet(self) -> bool:
        return self.peer_eof or self._loop.time() - self.last_input >= QUIET_SECONDS

    def begin(self, transport: asyncio.Transport, deadline: float) -> None:
        self.begun = True
        if half_close(transport):
            close_when_delivered(self._loop, transport, deadline, self.quiet)
