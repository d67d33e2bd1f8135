"""build_app(settings) wires everything; nothing is built at import time. Tests call it too,
with a ManualClock, and serve on port 0."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine

from ewallet.batching import BatchThread
from ewallet.clock import Clock, SystemClock
from ewallet.context import Services
from ewallet.dispatch import Dispatcher
from ewallet.domain.passwords import PasswordHasher
from ewallet.domain.sessions import Lifetimes
from ewallet.group_commit import GroupCommit, SharedRead
from ewallet.http.face import HttpFace
from ewallet.limits import AcceptErrorLog
from ewallet.maintenance import Job, Maintenance, sweep_accounts, sweep_sessions, sweep_timers
from ewallet.routes import RouteTable, build_route_table
from ewallet.server import LineServer
from ewallet.sessions.manager import SessionManager
from ewallet.sessions.workers import WorkerPool
from ewallet.settings import Settings
from ewallet.storage.database import create_db_engine, session_factory
from ewallet.storage.migrate import upgrade

log = logging.getLogger("ewallet")


@dataclass
class App:
    settings: Settings
    engine: Engine
    services: Services
    table: RouteTable
    manager: SessionManager
    server: LineServer
    maintenance: Maintenance
    address: tuple[str, int] | None = field(default=None)
    http: HttpFace | None = field(default=None)
    #: Where the HTTP face listens once started (its port is the real one when http_port is 0).
    http_address: tuple[str, int] | None = field(default=None)
    accept_errors: AcceptErrorLog | None = field(default=None)

    async def start(self, *, tcp: bool = True) -> tuple[str, int]:
        """Start the TCP listener (unless tcp=False), the HTTP face when configured, and the
        periodic jobs. Returns the TCP address, or the HTTP one when only HTTP runs."""
        self.accept_errors = AcceptErrorLog(asyncio.get_running_loop())
        self.accept_errors.install()
        if tcp:
            self.address = await self.server.start()
            host, port = self.address
            _warn_if_exposed(host)
            log.info("listening on %s:%d", host, port)
        if self.settings.http_port is not None:
            self.http = HttpFace(self)
            self.http_address = await self.http.start(self.settings.host, self.settings.http_port)
            _warn_if_exposed(self.http_address[0])
            log.info("HTTP listening on %s:%d", *self.http_address)
            if not tcp:
                self.address = self.http_address
        self.maintenance.start()
        assert self.address is not None
        return self.address

    async def stop(self) -> None:
        await self.maintenance.stop()
        # Both faces stop accepting at once and share one grace period.
        stopping = [self.server.stop()]
        if self.http is not None:
            stopping.append(self.http.stop())
        await asyncio.gather(*stopping)
        await asyncio.get_running_loop().run_in_executor(None, self.manager.close)
        self.engine.dispose()
        if self.accept_errors is not None:
            self.accept_errors.uninstall()

    async def serve_until_signalled(self, *, tcp: bool = True) -> None:
        """Run until SIGINT or SIGTERM, then shut down gracefully. The handlers are in place
        before the server announces itself: a signal that arrives while it is still starting
        stops it once started, instead of killing it."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for sig in signals:
            loop.add_signal_handler(sig, stop.set)
        try:
            await self.start(tcp=tcp)
        except BaseException:
            for sig in signals:
                loop.remove_signal_handler(sig)
            raise
        try:
            await stop.wait()
            log.info("shutting down")
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            await self.stop()


def build_app(settings: Settings, clock: Clock | None = None, *, migrate: bool = True) -> App:
    clock = clock or SystemClock()
    engine = create_db_engine(settings.database_url, busy_timeout=settings.busy_timeout, pool_size=settings.pool_size)
    if migrate:
        upgrade(engine)
    services = Services(
        settings=settings,
        clock=clock,
        pool=WorkerPool(settings.worker_limit, settings.session_limit, clock.now),
        hasher=PasswordHasher(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism),
        lifetimes=Lifetimes(
            session=timedelta(seconds=settings.session_lifetime),
            unused=timedelta(seconds=settings.unused_session_lifetime),
        ),
    )
    factory = session_factory(engine)
    table = build_route_table()
    dispatcher = Dispatcher(services, factory, session_factory(engine, read_only=True))
    # SQLite has one writer at a time: batch writes under one commit, and serve reads from a
    # couple of threads (WAL lets them run beside the writer). PostgreSQL runs everything on the
    # thread pool, concurrently, serialised only where rows are shared.
    writer, readers = None, []
    if engine.dialect.name == "sqlite":
        writer = BatchThread("ewallet-writer", GroupCommit(dispatcher))
        readers = [BatchThread(f"ewallet-reader-{n}", SharedRead(dispatcher)) for n in range(settings.readers)]
    manager = SessionManager(settings, table, dispatcher, writer, readers)
    jobs = [
        Job("session sweep", settings.session_sweep, sweep_sessions),
        Job("account cleaner", settings.account_sweep, sweep_accounts),
        Job("timer sweep", settings.timer_sweep, sweep_timers),
    ]
    return App(
        settings=settings,
        engine=engine,
        services=services,
        table=table,
        manager=manager,
        server=LineServer(settings, manager.handle_line),
        maintenance=Maintenance(services, factory, jobs),
    )


def _warn_if_exposed(host: str) -> None:
    if not _is_loopback(host):
        log.warning("listening on %s without TLS: put a TLS terminator in front or keep it private", host)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
