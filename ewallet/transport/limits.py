"""Process limits a server needs: one connection cap for TCP and HTTP together, one file
descriptor per connection, and a log that survives running out of descriptors anyway."""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

log = logging.getLogger(__name__)

#: Descriptors kept for everything that is not a counted connection: listening sockets, database
#: connections and files, logs, and connections over the cap, accepted only to be refused.
RESERVED_DESCRIPTORS = 256
#: Seconds between two log lines about accept() failing for want of descriptors.
ACCEPT_ERROR_INTERVAL = 5.0


class ConnectionCap:
    """The open connections of the process, TCP and HTTP alike, against max_connections.
    Each connection takes a place when it is made and gives it back when it is lost; giving
    back twice, or a place never taken, changes nothing."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._holders: set[object] = set()

    @property
    def open(self) -> int:
        return len(self._holders)

    def take(self, holder: object) -> bool:
        if len(self._holders) >= self.limit:
            return False
        self._holders.add(holder)
        return True

    def give_back(self, holder: object) -> None:
        self._holders.discard(holder)


def raise_fd_limit(wanted: int) -> int:
    """Raise the soft RLIMIT_NOFILE towards `wanted` (never above the hard limit); returns the
    soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def usable_connections(max_connections: int) -> int:
    """The connection cap this process can really hold: `max_connections`, or less when the
    descriptor limit (raised as far as allowed) is too low, with a warning. A client over a
    lowered cap gets `capacity`; without it the server would run out of descriptors, and the
    clients beyond would wait unanswered in the listen backlog."""
    limit = raise_fd_limit(max_connections + RESERVED_DESCRIPTORS)
    usable = max(limit - min(RESERVED_DESCRIPTORS, limit // 2), 1)
    if usable >= max_connections:
        return max_connections
    log.warning(
        "the file descriptor limit of %d allows %d connections: max_connections lowered from %d",
        limit,
        usable,
        max_connections,
    )
    return usable


def accept_backlog(max_connections: int) -> int:
    """The listen backlog, which is also how many connections asyncio accepts in one go. Each
    takes a descriptor before the cap can refuse it, so a burst must fit in what the cap leaves
    spare (a quarter of it, since refused connections close a loop turn or two later)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(8, min(4096, (soft - max_connections) // 4))


class AcceptErrorLog:
    """An event loop exception handler that reports accept() failing for want of descriptors
    (or memory) once every ACCEPT_ERROR_INTERVAL seconds, with a count. asyncio logs each
    failure with its traceback, and on Linux retries every pending connection of the backlog
    in one go: tens of thousands of lines a second. Everything else goes to the handler that
    was in place before."""

    MESSAGE = "socket.accept() out of system resource"

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.previous = loop.get_exception_handler()
        self.failures = 0
        self.reported_at: float | None = None

    def install(self) -> None:
        self.loop.set_exception_handler(self)

    def uninstall(self) -> None:
        if self.loop.get_exception_handler() is self:
            self.loop.set_exception_handler(self.previous)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != self.MESSAGE:
            if self.previous is not None:
                self.previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        self.failures += 1
        now = loop.time()
        if self.reported_at is not None and now - self.reported_at < ACCEPT_ERROR_INTERVAL:
            return
        exc = context.get("exception")
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "out of resources"
        log.error(
            "cannot accept connections: %s (%d failures since the last report); new clients wait in the listen backlog",
            reason,
            self.failures,
        )
        self.failures = 0
        self.reported_at = now
