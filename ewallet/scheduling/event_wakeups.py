"""How a process learns that another process committed events. This process's own commits wake
its subscribers directly (EventHub.after_commit); for the others:

- PostgreSQL: every event is NOTIFYed in its transaction (delivered at commit); one connection
  per process LISTENs on a thread. After a (re)connect anything may have been missed, so every
  subscription reads again.
- SQLite: there is no notification between processes, so the table is polled for seqs above the
  highest seen, at most every half second and only while there are subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

import psycopg
from sqlalchemy import Engine
from sqlalchemy.orm import Session as Db
from sqlalchemy.orm import sessionmaker

from ewallet.domain import events
from ewallet.scheduling.events import EventHub

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
#: How long the listener waits for a notification before it looks whether it should stop.
LISTEN_SLICE = 1.0
RECONNECT_SECONDS = 1.0


class NotifyListener:
    """A thread holding one PostgreSQL connection that LISTENs for events."""

    def __init__(self, conninfo: str, hub: EventHub) -> None:
        self.conninfo = conninfo
        self.hub = hub
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ewallet-listen", daemon=True)
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=LISTEN_SLICE + 1.0)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {events.CHANNEL}")
                    if failures:
                        log.info("listening for events again")
                    failures = 0
                    self._wake_everyone()  # whatever committed while not listening
                    self._listen(connection)
            except psycopg.Error as exc:
                failures += 1
                if failures == 1:
                    log.warning("event listener lost its database connection (%s); reconnecting", type(exc).__name__)
                self._stop.wait(RECONNECT_SECONDS)

    def _listen(self, connection: psycopg.Connection[tuple[object, ...]]) -> None:
        while not self._stop.is_set():
            accounts: set[int] = set()
            for notice in connection.notifies(timeout=LISTEN_SLICE, stop_after=1000):
                with contextlib.suppress(ValueError):
                    accounts.add(int(notice.payload))
            self.hub.wake_threadsafe(accounts)

    def _wake_everyone(self) -> None:
        loop = self.hub.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.hub.wake_all)


class TablePoller:
    """Polls the events table for other processes' events (SQLite)."""

    def __init__(self, read: sessionmaker[Db], hub: EventHub, interval: float = POLL_SECONDS) -> None:
        self.read = read
        self.hub = hub
        self.interval = interval
        self.high = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.high = await loop.run_in_executor(self.hub.executor, self._newest)
        self._task = loop.create_task(self._poll())

    def _newest(self) -> int:
        with self.read.begin() as db:
            return events.newest_seq(db)

    def _since(self) -> tuple[int, set[int]]:
        with self.read.begin() as db:
            return events.accounts_since(db, self.high)

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        stale = False
        while True:
            await asyncio.sleep(self.interval)
            if not self.hub.subscriptions:
                stale = True  # a new subscription reads the table itself: skip what came meanwhile
                continue
            try:
                if stale:
                    self.high, stale = await loop.run_in_executor(self.hub.executor, self._newest), False
                    # What committed elsewhere between a new subscription's first read and this
                    # jump is below `high` now: every subscription reads once more.
                    self.hub.wake_all()
                self.high, accounts = await loop.run_in_executor(self.hub.executor, self._since)
            except Exception as exc:
                log.warning("polling for events failed (%s); trying again", type(exc).__name__)
                continue
            self.hub.wake(accounts)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def conninfo(engine: Engine) -> str:
    """libpq's connection string for the engine's database (the password included)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
