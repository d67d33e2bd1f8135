"""The timers of a connection: the idle timeout (TCP) and the frame timeout (TCP and HTTP). Each
runs a callback; what expiry means (closing, and when) is the connection's business."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class FrameTimer:
    """The frame timeout: a request must be complete within `timeout` seconds of its own
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


#: Shortest wait before the idle timer looks again at a connection that is quiet but not idle
#: (an instruction still running, lines queued): it is about to be answered or to go idle.
IDLE_RECHECK_SECONDS = 0.05


class IdleTimer:
    """The idle timeout: `on_idle` runs once `timeout` seconds have passed since the last
    `activity()` (or the timer's creation) and `idle()` agrees (a connection waiting for a slow
    instruction, or with lines still queued or half received, is not idle). Activity only
    records the time; the timer, when it finds the connection active, sleeps for what is left
    of the timeout, so a busy connection costs no timer churn."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        timeout: float,
        idle: Callable[[], bool],
        on_idle: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._timeout = timeout
        self._idle = idle
        self._on_idle = on_idle
        self.last_activity = loop.time()
        self._handle: asyncio.TimerHandle | None = None

    @property
    def running(self) -> bool:
        return self._handle is not None

    def start(self) -> None:
        self._arm(self._timeout)

    def activity(self) -> None:
        self.last_activity = self._loop.time()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _arm(self, delay: float) -> None:
        self.stop()
        self._handle = self._loop.call_later(delay, self._check)

    def _check(self) -> None:
        self._handle = None
        quiet = self._loop.time() - self.last_activity
        if quiet >= self._timeout and self._idle():
            self._on_idle()
            return
        self._arm(max(self._timeout - quiet, IDLE_RECHECK_SECONDS))
