"""The TCP listener: one connection protocol per client, lines answered one at a time in
order, the connection cap and graceful shutdown. A connection is wired from small parts, each
tested alone: framing, the line queue, flow control, the idle and frame timers, the linger."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import typing
from collections.abc import Awaitable, Callable

from ewallet.domain.errors import EwalletError
from ewallet.protocol import wire
from ewallet.protocol.answers import failure
from ewallet.protocol.errors import Capacity, FrameTooLarge
from ewallet.scheduling.events import ConnectionEvents, EventHub
from ewallet.settings import Settings
from ewallet.transport.closing import Linger
from ewallet.transport.flow import FlowControl
from ewallet.transport.framing import LineFramer, TooLarge
from ewallet.transport.limits import ConnectionCap, accept_backlog
from ewallet.transport.line_queue import LineQueue
from ewallet.transport.timers import FrameTimer, IdleTimer

log = logging.getLogger(__name__)

#: (line, peer, the connection's event channel or None) -> the answer line.
LineHandler = Callable[[bytes, str, ConnectionEvents | None], Awaitable[bytes]]
#: Seconds a connection the server closes (an overrun, a frame timeout) keeps draining input
#: while its last answers are delivered.
LINGER_SECONDS = 2.0


def error_line(error: EwalletError) -> bytes:
    return wire.encode(failure(error))


class Connection(asyncio.Protocol):
    """One client. The transport's callbacks feed its parts: the framer cuts lines, the queue
    holds them until answered, flow control stops reading while the queue is full or answers are
    unsent, the idle timer and the frame timer close a connection that stalls, and the linger
    closes without losing answers. The answering loop (`serve`) takes one line at a time, which
    keeps a pipelining client's answers in order. `busy` (an instruction is running) is the one
    state of its own: a running instruction is always answered, even at shutdown."""

    def __init__(self, server: LineServer) -> None:
        self.server = server
        self.settings = server.settings
        self.framer = LineFramer(self.settings.max_frame)
        #: Closed once no further line is taken: the connection is on its way out.
        self.queue = LineQueue()
        self.transport: asyncio.Transport | None = None
        self.flow: FlowControl | None = None
        self.peer = "unknown"
        self.task: asyncio.Task[None] | None = None
        self.busy = False
        self.loop = asyncio.get_running_loop()
        self.linger = Linger(self.loop)
        self.idle_timer = IdleTimer(self.loop, self.settings.idle_timeout, self._idle, self._idle_expired)
        self.frame_timer = FrameTimer(self.loop, self.settings.frame_timeout, self._frame_expired)
        #: Subscribe and unsubscribe act on it; events are written between answers.
        self.events = ConnectionEvents(server.hub, self) if server.hub is not None else None

    @property
    def reading_paused(self) -> bool:
        return self.flow is not None and self.flow.read_paused

    # -- transport callbacks ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio hands every Protocol a BaseTransport; a stream connection's is always a Transport.
        self.transport = typing.cast(asyncio.Transport, transport)
        self.flow = FlowControl(self.transport)
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if isinstance(peer, tuple) else "local"
        if self.server.stopping or not self.server.cap.take(self):
            self.transport.write(error_line(Capacity("too many connections; try again later")))
            self.transport.close()
            return
        self.transport.set_write_buffer_limits(high=self.settings.max_unsent)
        self.server.connections.add(self)
        log.debug("TCP connection from %s opened", self.peer)
        self.task = self.loop.create_task(self.serve())
        self.idle_timer.start()

    def data_received(self, data: bytes) -> None:
        self.linger.input_seen()
        if self.queue.closed:
            return
        self.idle_timer.activity()
        was_partial, ended = self.framer.partial, self.framer.lines_ended
        events = self.framer.feed(data)
        self.queue.extend(events)
        # The framer reports an overrun last: it reads nothing after one.
        if events and isinstance(events[-1], TooLarge) and events[-1].fatal:
            self._stop_reading_for_good()
        if not self.framer.partial:
            self.frame_timer.stop()
        elif not was_partial or self.framer.lines_ended != ended:
            self.frame_timer.start()  # each line gets the whole timeout from its own first byte
        if self.queue.full:
            self._pause_reading()

    def eof_received(self) -> bool:
        self.linger.eof_seen()
        if not self.queue.closed:
            self.queue.extend(self.framer.finish())
            self.queue.close()  # the lines already received are still answered
            self.frame_timer.stop()
        return True  # keep our write side open until the answers are out

    def connection_lost(self, exc: Exception | None) -> None:
        self.queue.close()
        self.queue.clear()
        if self.events is not None:
            self.events.close()
        if self in self.server.connections:
            log.debug("TCP connection from %s closed", self.peer)
        self.server.connections.discard(self)
        self.server.cap.give_back(self)
        self.frame_timer.stop()
        self.idle_timer.stop()
        if self.flow is not None:
            self.flow.resume_writing()
        if self.task is not None and not self.busy:
            self.task.cancel()

    def pause_writing(self) -> None:
        assert self.flow is not None
        self.flow.pause_writing()
        if not self.linger.begun:  # a lingering connection must keep draining input
            self._pause_reading()

    def resume_writing(self) -> None:
        assert self.flow is not None
        self.flow.resume_writing()
        self._maybe_resume_reading()

    # -- the event sink (scheduling.events.EventSink) ----------------------------------------------

    def send_events(self, events: list[tuple[int, bytes]]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(line for _, line in events))

    async def ready(self) -> None:
        """A subscriber that does not read holds delivery here: nothing is lost, since events
        are read from the table only when the connection can take them."""
        if self.flow is not None and self.flow.write_paused:
            await self.flow.drain()

    def has_room(self) -> bool:
        return self.flow is None or not self.flow.write_paused

    def closing(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    # -- the answering loop ----------------------------------------------------------------------

    async def serve(self) -> None:
        transport, flow = self.transport, self.flow
        assert transport is not None and flow is not None
        try:
            # None: closed with nothing left to answer (end of input, a frame timeout, a shutdown).
            while (event := await self.queue.get()) is not None:
                self._maybe_resume_reading()
                if isinstance(event, TooLarge):
                    if not event.answered and not transport.is_closing():
                        transport.write(error_line(FrameTooLarge()))
                    if event.fatal:
                        return
                    continue
                self.busy = True
                try:
                    answer = await self.server.handle_line(event.data, self.peer, self.events)
                finally:
                    self.busy = False
                if transport.is_closing():
                    return
                transport.write(answer)
                if self.events is not None:
                    self.events.after_answer()  # a subscription starts after its answer
                self.idle_timer.activity()
                if flow.write_paused:
                    await flow.drain()
                if self.server.stopping:
                    break
        except asyncio.CancelledError:
            pass
        finally:
            self.finish(self.server.deadline if self.server.stopping else self.loop.time() + LINGER_SECONDS)

    def finish(self, deadline: float) -> None:
        """Close without losing answers. The socket is not simply closed: with input unread (a
        client still pipelining) the kernel would reset the connection and drop the answers not
        yet delivered, and answers still in the transport's buffer would be lost if the process
        exits first. So: half-close once the buffer is written, discard what the client still
        sends, and close once the client has every answer and has gone quiet or closed its
        side, or at the deadline."""
        transport = self.transport
        self.queue.close()
        self.queue.clear()
        self.frame_timer.stop()
        if self.linger.begun or transport is None or transport.is_closing():
            return
        if self.linger.peer_eof:  # nothing more will arrive, so closing cannot reset
            self.close()
            return
        if self.flow is not None:
            self.flow.resume_reading()
        self.linger.begin(transport, deadline)

    def close(self) -> None:
        self.queue.close()
        self.frame_timer.stop()
        self.idle_timer.stop()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def abort(self) -> None:
        """The grace period is over: drop the connection now."""
        self.queue.close()
        self.frame_timer.stop()
        self.idle_timer.stop()
        if self.transport is not None:
            self.transport.abort()

    def stop_after_current(self, deadline: float) -> None:
        """Shutdown: lines received but not started are dropped unanswered; a running
        instruction is answered first (the answering loop then finishes the connection)."""
        self.queue.close()
        self.queue.clear()
        self._pause_reading()
        if not self.busy:
            self.finish(deadline)

    # -- timers and flow control -----------------------------------------------------------------

    def _idle(self) -> bool:
        """Nothing running, queued or half received: only the client can be holding things up.
        A subscribed connection is waiting for the server, not idle."""
        subscribed = self.events is not None and self.events.subscribed
        return not self.busy and not self.queue and not self.framer.partial and not subscribed

    def _idle_expired(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        log.debug("closing idle connection from %s", self.peer)
        self.close()

    def _frame_expired(self) -> None:
        """The line was not completed in time: close, after the answer of an instruction that is
        running now (the answering loop ends once it finds nothing left to answer)."""
        log.debug("closing connection from %s: line not completed in time", self.peer)
        self.queue.close()
        self.queue.clear()

    def _stop_reading_for_good(self) -> None:
        """An overrun: the lines before it are answered, then the connection finishes, so the
        client reads the error line and a clean end of stream rather than a reset."""
        self.queue.close()
        self._pause_reading()

    def _pause_reading(self) -> None:
        # While we do not read, the client cannot complete its line: the frame clock stops too.
        if self.flow is not None:
            self.flow.pause_reading()
        self.frame_timer.pause()

    def _maybe_resume_reading(self) -> None:
        if (
            self.flow is not None
            and self.flow.read_paused
            and not self.queue.closed
            and not self.flow.write_paused
            and self.queue.has_room
        ):
            self.flow.resume_reading()
            self.frame_timer.resume()


class LineServer:
    """Serves `handle_line` over TCP. start() binds; stop() shuts down gracefully. `cap` counts
    the process's connections (the HTTP face's too) against max_connections."""

    def __init__(
        self,
        settings: Settings,
        handle_line: LineHandler,
        cap: ConnectionCap | None = None,
        hub: EventHub | None = None,
    ) -> None:
        self.settings = settings
        self.handle_line = handle_line
        #: Where subscribed connections' events come from (None: this server carries none).
        self.hub = hub
        self.cap = cap if cap is not None else ConnectionCap(settings.max_connections)
        self.connections: set[Connection] = set()
        self.stopping = False
        #: Loop time by which a shutdown has answered, delivered and closed everything.
        self.deadline = 0.0
        self._server: asyncio.Server | None = None

    async def start(self, host: str | None = None, port: int | None = None) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: Connection(self),
            host if host is not None else self.settings.host,
            port if port is not None else self.settings.port,
            backlog=accept_backlog(self.settings.max_connections),
            reuse_address=True,
            # --workers: every worker listens on the port, the kernel spreads the connections.
            reuse_port=self.settings.workers > 1 or None,
        )
        address = self._server.sockets[0].getsockname()
        return str(address[0]), int(address[1])

    async def stop(self, grace: float | None = None) -> None:
        """Stop accepting, let started instructions finish and their answers reach the clients
        (all within the grace period), then close what is left."""
        loop = asyncio.get_running_loop()
        self.stopping = True
        self.deadline = loop.time() + (grace if grace is not None else self.settings.shutdown_grace)
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.stop_after_current(self.deadline)
        tasks = [c.task for c in self.connections if c.task is not None and not c.task.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=max(self.deadline - loop.time(), 0))
            for task in pending:
                task.cancel()
        # Answers are delivered by the event loop: it must not end before the connections have.
        while self.connections and loop.time() < self.deadline:
            await asyncio.sleep(0.02)
        for connection in list(self.connections):
            connection.abort()
        await asyncio.sleep(0)  # connection_lost runs
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=1.0)
