"""The timers of a connection: the frame timer (a request must be complete within a time of its
own first byte). The TCP server and the HTTP face both use it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


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
