"""The lines of one connection waiting for their answers, oldest first. Answering one line at a
time from this queue is what keeps a pipelining client's answers in the order it sent them."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable

from ewallet.transport.framing import Event

#: Lines queued on one connection before reading pauses (pipelining without reading answers).
MAX_QUEUED_LINES = 256


class LineQueue:
    """Framed input (lines and oversize reports) waiting to be answered.

    Reading should pause once the queue is `full` and resume only once it `has_room` again (half
    empty): memory stays bounded for a client that pipelines without reading, and the transport
    is not paused and resumed for every line. Once closed the queue takes no more lines (the
    connection is on its way out); `get()` still hands out what is left, then None."""

    def __init__(self, limit: int = MAX_QUEUED_LINES) -> None:
        self.limit = limit
        self.closed = False
        self._events: deque[Event] = deque()
        self._arrived = asyncio.Event()

    def __len__(self) -> int:
        return len(self._events)

    @property
    def full(self) -> bool:
        return len(self._events) >= self.limit

    @property
    def has_room(self) -> bool:
        return len(self._events) < self.limit // 2

    def put(self, event: Event) -> None:
        self.extend((event,))

    def extend(self, events: Iterable[Event]) -> None:
        """Queue `events` in order; nothing once closed."""
        if not self.closed:
            self._events.extend(events)
            if self._events:
                self._arrived.set()

    def close(self) -> None:
        """No further line is taken. Wakes `get()`, which ends once the queue is empty."""
        self.closed = True
        self._arrived.set()

    def clear(self) -> None:
        """Drop the lines not started yet (they go unanswered)."""
        self._events.clear()

    async def get(self) -> Event | None:
        """The oldest event, waiting for one if need be; None once closed and empty."""
        while not self._events:
            if self.closed:
                return None
            self._arrived.clear()
            await self._arrived.wait()
        return self._events.popleft()
