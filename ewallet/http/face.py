"""Running the HTTP face with uvicorn inside the server's own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
from collections.abc import Iterator
from typing import cast

import uvicorn
from fastapi import FastAPI

from ewallet.http.events import EventStreams
from ewallet.http.protocol import HttpConnection
from ewallet.settings import Settings
from ewallet.transport.limits import ConnectionCap, accept_backlog


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: the ewallet process owns SIGINT/SIGTERM and
    stops the HTTP face as part of its graceful shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listening_socket(host: str, port: int, backlog: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket made as asyncio makes its own: with proto IPPROTO_TCP. asyncio sets
    TCP_NODELAY on accepted connections only when their proto says TCP; `socket.create_server`
    leaves it 0, and then every keep-alive answer (headers and body written separately) waits
    ~40 ms for the client's delayed ACK."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:  # --workers: the port is shared by every worker
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


class HttpFace:
    """uvicorn serving `asgi` under the connection cap the TCP server shares."""

    def __init__(self, asgi: FastAPI, settings: Settings, cap: ConnectionCap) -> None:
        self.asgi = asgi
        self.settings = settings
        self.cap = cap
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, host: str, port: int) -> tuple[str, int]:
        backlog = accept_backlog(self.settings.max_connections)
        sock = _listening_socket(host, port, backlog, reuse_port=self.settings.workers > 1)
        address = sock.getsockname()
        config = uvicorn.Config(
            self.asgi,
            backlog=backlog,
            lifespan="off",
            log_level=self.settings.log_level.lower(),
            # uvicorn installs no handler of its own: its records reach ours (ewallet.logs), in
            # the format the process logs in.
            log_config=None,
            access_log=False,
            # The cap (shared with TCP), the idle timeout and the frame timeout live in the
            # protocol; uvicorn's limit_concurrency would answer its overload in text/plain.
            http=cast(type[asyncio.Protocol], functools.partial(HttpConnection, cap=self.cap, settings=self.settings)),
            timeout_graceful_shutdown=int(self.settings.shutdown_grace),
            # An upgraded connection would leave the protocol above, and the cap, behind.
            ws="none",
            server_header=False,
            # uvicorn trusts X-Forwarded-For from loopback by default; behind nothing, that would
            # let any local client pick the address the per-peer limits count against.
            proxy_headers=self.settings.forwarded_allow_ips is not None,
            forwarded_allow_ips=self.settings.forwarded_allow_ips,
        )
        self._server = _EmbeddedServer(config)
        self._task = asyncio.get_running_loop().create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        return str(address[0]), int(address[1])

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            # An event stream never ends by itself: end them all (after what they hold is
            # written), or each would hold the shutdown for the whole grace period.
            streams: EventStreams | None = getattr(self.asgi.state, "event_streams", None)
            if streams is not None:
                streams.end_all()
            await self._task
