"""Running `ewallet serve`: one server process (`run_server`), or with `--workers N` N server
processes on one listening port (SO_REUSEPORT: the kernel spreads new connections over them),
each with its own event loop, threads and connection pool, sharing the database. The process
the user started is the supervisor: it runs the migrations once, starts the workers
(multiprocessing, spawn: a fresh interpreter that gets the Settings object itself, so no secret
goes through a command line), passes SIGINT and SIGTERM on as SIGTERM (each worker drains as a
single server does) and waits.

A worker that ends while nobody asked it to (a crash, the OOM killer, a SIGKILL) is logged, the
others are stopped gracefully, and the supervisor exits non-zero: half the capacity serving on
with nothing but a log line to show for it is worse than a restart by whatever runs the server
(systemd, Kubernetes), which sees the status."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterable
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import cast

from ewallet import exits
from ewallet.exits import Unavailable
from ewallet.settings import Settings, SettingsError

log = logging.getLogger("ewallet.supervisor")

#: Seconds past the shutdown grace a worker gets to exit after SIGTERM before it is killed.
EXIT_SLACK = 15.0


def supervise(settings: Settings, *, tcp: bool) -> int:
    """Migrate, start `settings.workers` workers, wait; the exit status of the whole."""
    from ewallet.storage.database import create_db_engine
    from ewallet.storage.migrate import upgrade

    engine = create_db_engine(settings.database_url, busy_timeout=settings.busy_timeout, pool_size=1)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    # Port 0 would give each worker a port of its own: choose one here, and hold it (bound with
    # SO_REUSEPORT, never listening, so it takes no connection) until the workers have bound it.
    held: list[socket.socket] = []
    if tcp and settings.port == 0:
        sock = _reserve(settings.host)
        held.append(sock)
        settings = settings.replace(port=sock.getsockname()[1])
    if settings.http_port == 0:
        sock = _reserve(settings.host)
        held.append(sock)
        settings = settings.replace(http_port=sock.getsockname()[1])
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()
    workers: list[BaseProcess] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        stopping.set()
        _terminate(workers)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for index in range(settings.workers):
            if stopping.is_set():
                break
            worker = context.Process(
                target=run_worker, args=(settings, tcp, index), name=f"ewallet-worker-{index + 1}", daemon=False
            )
            worker.start()
            workers.append(worker)
            log.info("worker %d of %d started: pid %d", index + 1, settings.workers, worker.pid)
        status = _wait(workers, stopping, settings)
    finally:
        for sock in held:
            sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status


def _wait(workers: list[BaseProcess], stopping: threading.Event, settings: Settings) -> int:
    """Until every worker has ended. The first one to end unasked stops the others; the status
    is 0 when all ended 0 after a signal, else the first failure's (a worker's own exit status
    when it had one, FAILED when it died of a signal). A worker still running a grace period
    (plus EXIT_SLACK) after the stop is killed."""
    status = exits.OK
    running = {w.sentinel: w for w in workers}
    deadline: float | None = None
    while running:
        if stopping.is_set() and deadline is None:
            deadline = time.monotonic() + settings.shutdown_grace + EXIT_SLACK
        # A signal interrupts the wait (its handler runs) and the wait resumes: poll to see it.
        ready = wait(list(running), timeout=0.5)
        if not ready:
            if deadline is not None and time.monotonic() >= deadline:
                for worker in running.values():
                    log.error("worker pid %s did not exit in time: killed", worker.pid)
                    worker.kill()
                deadline = float("inf")
            continue
        for sentinel in ready:
            worker = running.pop(cast(int, sentinel))
            worker.join()
            code = worker.exitcode if worker.exitcode is not None else 0
            if code == 0 and stopping.is_set():
                continue
            how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
            if stopping.is_set():
                log.error("worker pid %s %s while stopping", worker.pid, how)
            else:
                log.error("worker pid %s %s unexpectedly: stopping the other workers", worker.pid, how)
                stopping.set()
                _terminate(running.values())
            if status == exits.OK:
                status = code if code > 0 else exits.FAILED
    return status


def _terminate(workers: Iterable[BaseProcess]) -> None:
    for worker in workers:
        if worker.pid is not None and worker.exitcode is None:
            os.kill(worker.pid, signal.SIGTERM)


def _reserve(host: str) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, 0, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


def run_server(settings: Settings, *, tcp: bool, migrate: bool = True) -> int:
    """One server process until SIGINT or SIGTERM: `ewallet serve`, or one of its --workers."""
    from ewallet.app import build_app
    from ewallet.startup import address_in_use
    from ewallet.transport.limits import usable_connections

    settings = settings.replace(max_connections=usable_connections(settings.max_connections))
    app = build_app(settings, migrate=migrate)
    try:
        asyncio.run(app.serve_until_signalled(tcp=tcp))
    except OSError as exc:  # a port taken between the check and the bind
        raise address_in_use(exc, settings) or exc from None
    return 0


def run_worker(settings: Settings, tcp: bool, index: int) -> None:
    """One worker: a server as `ewallet serve` runs it, on the shared port, without migrating.
    Only the first serves --metrics-port (prometheus_client's server cannot share a port). It
    stops when the supervisor goes away without telling it (SIGKILL)."""
    from ewallet import logs

    # The supervisor passes Ctrl-C on; the terminal's own SIGINT to the whole group would be a
    # second signal, arriving while this worker drains.
    os.setpgrp()
    logs.configure(settings.log_level, settings.log_format, pid=True)
    if index > 0:
        settings = settings.replace(metrics_port=None)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_stop_with, args=(parent,), daemon=True, name="ewallet-supervisor-watch").start()
    try:
        status = run_server(settings, tcp=tcp, migrate=False)
    except SettingsError as exc:
        log.error("%s", exc)
        status = exits.USAGE
    except Unavailable as exc:  # the database gone, say
        log.error("%s", exc)
        status = exits.UNAVAILABLE
    sys.exit(status)


def _stop_with(parent: BaseProcess) -> None:
    wait([parent.sentinel])
    os.kill(os.getpid(), signal.SIGTERM)
