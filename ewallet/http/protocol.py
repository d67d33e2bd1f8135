"""uvicorn's h11 protocol with the TCP server's transport limits: the connection cap shared
with TCP (over it: a JSON `capacity` answer, never uvicorn's text/plain), the frame timeout
from a request's first byte to its last, and the idle timeout from the moment a connection
opens, not only between keep-alive requests."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from ewallet.protocol import wire
from ewallet.protocol.answers import failure
from ewallet.protocol.errors import Capacity
from ewallet.settings import Settings
from ewallet.transport.closing import Linger
from ewallet.transport.limits import ConnectionCap
from ewallet.transport.timers import FrameTimer

log = logging.getLogger(__name__)

#: Seconds a refused connection may take to read its answer before it is closed.
LINGER_SECONDS = 2.0
#: States of the client's side in which a request has begun but not ended.
_REQUEST_OPEN = (h11.IDLE, h11.SEND_BODY)


def capacity_response() -> bytes:
    body = wire.encode(failure(Capacity("too many connections; try again later"))).rstrip(b"\n")
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class HttpConnection(H11Protocol):
    """One HTTP connection. Made by uvicorn with a `functools.partial` carrying the cap and the
    settings."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        cap: ConnectionCap,
        settings: Settings,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.cap = cap
        # uvicorn's Config takes whole seconds; the timer itself takes any.
        self.timeout_keep_alive = settings.idle_timeout  # type: ignore[assignment]
        self.frame_timer = FrameTimer(self.loop, settings.frame_timeout, self._frame_expired)
        self.refused = False
        self.linger = Linger(self.loop)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self.cap.take(self):
            self._refuse()
            return
        log.debug("HTTP connection from %s opened", self._peer_host())
        # uvicorn arms its keep-alive timer only after a response, so a connection that never
        # sends a request would be kept for ever.
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.refused:
            log.debug("HTTP connection from %s closed", self._peer_host())
        self.cap.give_back(self)
        self.frame_timer.stop()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.linger.input_seen()
        if self.refused:
            return
        if not self.frame_timer.running and self.conn.their_state is h11.IDLE:
            self.frame_timer.start()  # the first byte of a request
        super().data_received(data)
        if self.conn.their_state not in _REQUEST_OPEN:
            self.frame_timer.stop()

    def _peer_host(self) -> str:
        # uvicorn's own record of the peer (the socket's, before any X-Forwarded-For).
        return str(self.client[0]) if self.client else "local"

    def eof_received(self) -> None:
        self.linger.eof_seen()

    def _refuse(self) -> None:
        """Over the cap: answer at once, whatever the request, then close without a reset (the
        request may still be arriving; closing with it unread would destroy the answer)."""
        self.refused = True
        self.transport.write(capacity_response())
        self.linger.begin(self.transport, self.loop.time() + LINGER_SECONDS)

    def _frame_expired(self) -> None:
        log.debug("closing HTTP connection: request not completed in time")
        if not self.transport.is_closing():
            self.transport.close()
