"""build_app(settings) wires everything; nothing is built at import time. Tests call it too,
with a ManualClock, and serve on port 0."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from prometheus_client import start_http_server
from sqlalchemy import URL, Engine
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session, sessionmaker

from ewallet import __version__
from ewallet.clock import Clock, SystemClock
from ewallet.domain.passwords import PasswordHasher
from ewallet.domain.session_store import Lifetimes
from ewallet.handlers import build_route_table
from ewallet.handlers.context import Services
from ewallet.maintenance import (
    Job,
    Maintenance,
    purge_events,
    purge_idempotency_keys,
    sweep_accounts,
    sweep_sessions,
    sweep_timers,
)
from ewallet.metrics import Metrics
from ewallet.pipeline.attempt import Pipeline
from ewallet.pipeline.policies import GroupCommit, OwnTransaction, SharedRead, policy_for
from ewallet.routes import RouteTable
from ewallet.scheduling.batching import BatchThread
from ewallet.scheduling.event_wakeups import NotifyListener, TablePoller, conninfo
from ewallet.scheduling.events import EventHub
from ewallet.scheduling.scheduler import Scheduler
from ewallet.scheduling.worker_registry import WorkerRegistry
from ewallet.settings import Settings
from ewallet.storage.database import create_db_engine, session_factory
from ewallet.storage.migrate import upgrade
from ewallet.transport.limits import AcceptErrorLog
from ewallet.transport.server import LineServer

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from ewallet.http.face import HttpFace

log = logging.getLogger("ewallet")


@dataclass
class App:
    settings: Settings
    engine: Engine
    services: Services
    table: RouteTable
    scheduler: Scheduler
    server: LineServer
    maintenance: Maintenance
    hub: EventHub
    #: How other processes' events reach this one: PostgreSQL's NOTIFY, or polling on SQLite.
    wakeups: NotifyListener | TablePoller
    address: tuple[str, int] | None = field(default=None)
    http: HttpFace | None = field(default=None)
    #: Where the HTTP face listens once started (its port is the real one when http_port is 0).
    http_address: tuple[str, int] | None = field(default=None)
    accept_errors: AcceptErrorLog | None = field(default=None)
    #: Where the TCP listener listens once started (None when only HTTP runs).
    server_address: tuple[str, int] | None = field(default=None)
    metrics: Metrics = field(default_factory=Metrics)
    #: The --metrics-port listener (prometheus_client's own small HTTP server, on a thread).
    metrics_server: WSGIServer | None = field(default=None)
    metrics_address: tuple[str, int] | None = field(default=None)

    async def start(self, *, tcp: bool = True) -> tuple[str, int]:
        """Start the TCP listener (unless tcp=False), the HTTP face when configured, and the
        periodic jobs. Returns the TCP address, or the HTTP one when only HTTP runs."""
        self.accept_errors = AcceptErrorLog(asyncio.get_running_loop())
        self.accept_errors.install()
        self.hub.start(asyncio.get_running_loop())
        if isinstance(self.wakeups, TablePoller):
            await self.wakeups.start()
        else:
            self.wakeups.start()
        if tcp:
            self.address = self.server_address = await self.server.start()
            host, port = self.address
            _warn_if_exposed(host)
            log.info("listening on %s:%d", host, port)
        if self.settings.http_port is not None:
            # FastAPI, uvicorn and the OpenAPI models cost about 9 MB and a share of the start-up:
            # loaded only by a process that serves HTTP.
            from ewallet.http.app import build_http_app
            from ewallet.http.face import HttpFace

            asgi = build_http_app(self.settings, self.table, self.scheduler, self.engine, self.hub)
            self.http = HttpFace(asgi, self.settings, self.server.cap)
            self.http_address = await self.http.start(self.settings.host, self.settings.http_port)
            _warn_if_exposed(self.http_address[0])
            log.info("HTTP listening on %s:%d", *self.http_address)
            if not tcp:
                self.address = self.http_address
        if self.settings.metrics_port is not None:
            self.metrics_server, _ = start_http_server(
                self.settings.metrics_port, addr=self.settings.host, registry=self.metrics.registry
            )
            self.metrics_address = (self.settings.host, self.metrics_server.server_port)
        self.maintenance.start()
        assert self.address is not None
        log.info("ewallet %s started: %s", __version__, self._summary(tcp))
        return self.address

    def _summary(self, tcp: bool) -> str:
        """The startup line's body: the database (never a password) and every listening address."""
        parts = [f"database {shown_database(self.engine.url)}"]
        faces = (("TCP", self.server_address if tcp else None), ("HTTP", self.http_address))
        for face, address in (*faces, ("metrics", self.metrics_address)):
            if address is not None:
                parts.append(f"{face} {address[0]}:{address[1]}")
        return ", ".join(parts)

    async def stop(self) -> None:
        await self.maintenance.stop()
        # Both faces stop accepting at once and share one grace period.
        stopping = [self.server.stop()]
        if self.http is not None:
            stopping.append(self.http.stop())
        await asyncio.gather(*stopping)
        if self.metrics_server is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.metrics_server.shutdown)
            self.metrics_server.server_close()
        if isinstance(self.wakeups, TablePoller):
            await self.wakeups.stop()
        else:
            await asyncio.get_running_loop().run_in_executor(None, self.wakeups.stop)
        await asyncio.get_running_loop().run_in_executor(None, self.hub.close)
        await asyncio.get_running_loop().run_in_executor(None, self.scheduler.close)
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
        workers=WorkerRegistry(settings.worker_limit, settings.session_limit, clock.now),
        hasher=PasswordHasher(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism),
        lifetimes=Lifetimes(
            session=timedelta(seconds=settings.session_lifetime),
            unused=timedelta(seconds=settings.unused_session_lifetime),
        ),
    )
    write, read = session_factory(engine), session_factory(engine, read_only=True)
    metrics = Metrics()
    scheduler = _scheduler(settings, engine.dialect.name, Pipeline(services), write, read, metrics)
    hub = EventHub(settings, read, write, clock, services.lifetimes, metrics)
    metrics.watch_subscriptions(lambda: hub.count)
    # Whatever commits events through `write` (instructions, sweeps, clock warnings) wakes them.
    sqlalchemy_event.listen(write, "after_commit", hub.after_commit)
    sqlalchemy_event.listen(write, "after_rollback", hub.after_rollback)
    wakeups: NotifyListener | TablePoller = (
        NotifyListener(conninfo(engine), hub) if engine.dialect.name == "postgresql" else TablePoller(read, hub)
    )
    server = LineServer(settings, scheduler.handle_line, hub=hub)
    metrics.watch_connections(lambda: server.cap.open)
    metrics.watch_database(engine, clock.now)
    jobs = [
        Job("session sweep", settings.session_sweep, sweep_sessions),
        Job("account cleaner", settings.account_sweep, sweep_accounts),
        Job("timer sweep", settings.timer_sweep, sweep_timers),
        # Rides on the timer sweep's interval, as it always did, but runs and logs as its own job.
        Job("idempotency key purge", settings.timer_sweep, purge_idempotency_keys),
        Job("event purge", settings.timer_sweep, purge_events),
    ]
    return App(
        settings=settings,
        engine=engine,
        services=services,
        table=scheduler.table,
        scheduler=scheduler,
        server=server,
        maintenance=Maintenance(services, write, jobs),
        hub=hub,
        wakeups=wakeups,
        metrics=metrics,
    )


def _scheduler(
    settings: Settings,
    dialect: str,
    pipeline: Pipeline,
    write: sessionmaker[Session],
    read: sessionmaker[Session],
    metrics: Metrics,
) -> Scheduler:
    alone = OwnTransaction(pipeline, write, read, metrics)
    writer, writing = None, threading.Event()
    if policy_for(settings.transactions, dialect) == "grouped":
        # One writer at a time (SQLite's rule anyway): writes batched under one commit.
        writer = BatchThread(
            "ewallet-writer", GroupCommit(pipeline, write, metrics, writing), on_batch=_batch_sizes(metrics, "writer")
        )
    # Reads from a few threads, a batch sharing one read transaction, under either policy: on
    # SQLite WAL lets them run while the writer writes; on PostgreSQL a view in a transaction
    # of its own paid a checkout, BEGIN and COMMIT for its two or three statements (views 708
    # -> 1,189/s measured with bench.py on the local PostgreSQL).
    readers = [
        BatchThread(
            f"ewallet-reader-{n}", SharedRead(pipeline, read, alone, writing), on_batch=_batch_sizes(metrics, "reader")
        )
        for n in range(settings.readers)
    ]
    prepare = functools.partial(pipeline.prepare, read)
    return Scheduler(settings, build_route_table(), alone.run, prepare, writer, readers, metrics)


def _batch_sizes(metrics: Metrics, thread: str) -> Callable[[int], None]:
    return metrics.batch_size.labels(thread).observe


def _warn_if_exposed(host: str) -> None:
    if not _is_loopback(host):
        log.warning("listening on %s without TLS: put a TLS terminator in front or keep it private", host)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def shown_database(url: URL) -> str:
    """The database as the log names it: a SQLite file by its absolute path (a server started in
    another folder opens another file), any other database without password or query options
    (which may hold secrets such as sslpassword)."""
    if url.get_backend_name() == "sqlite":
        database = url.database or ":memory:"
        return f"sqlite file {os.path.abspath(database)}" if database != ":memory:" else "sqlite in memory"
    bare = URL.create(url.drivername, username=url.username, host=url.host, port=url.port, database=url.database)
    return bare.render_as_string(hide_password=False)
