"""Periodic jobs: expired sessions, the account cleaner, timers past their expected stop and
expired idempotency keys. Each job runs in its own transaction on a database thread, claiming
rows with SKIP LOCKED so that several processes can sweep one database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session as Db
from sqlalchemy.orm import sessionmaker

from ewallet.domain import events, idempotency, session_store, timer
from ewallet.domain.account_cleaner import clean_accounts
from ewallet.handlers.context import Services

log = logging.getLogger(__name__)

JobFn = Callable[[Db, datetime, Services], int]


@dataclass(frozen=True)
class Job:
    name: str
    interval: float
    run: JobFn


def sweep_sessions(db: Db, now: datetime, services: Services) -> int:
    ids = session_store.expired_sessions(db, now, services.lifetimes)
    removed = session_store.remove_sessions(db, ids)
    session_store.purge_expired_client_ids(db, now)
    for sid in ids:
        services.workers.release(sid)
    services.workers.prune_expired()
    return removed


class Maintenance:
    def __init__(self, services: Services, factory: sessionmaker[Db], jobs: list[Job]) -> None:
        self.services = services
        self.factory = factory
        self.jobs = jobs
        self._tasks: list[asyncio.Task[None]] = []

    def run_once(self, job: Job) -> int:
        with self.factory.begin() as db:
            return job.run(db, self.services.clock.now(), self.services)

    def start(self) -> None:
        for job in self.jobs:
            if job.interval > 0:
                self._tasks.append(asyncio.get_running_loop().create_task(self._loop(job)))

    async def _loop(self, job: Job) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(job.interval)
            try:
                done = await loop.run_in_executor(None, self.run_once, job)
                if done:
                    log.info("%s: %d cleaned", job.name, done)
            except Exception:
                log.exception("maintenance job %s failed; it runs again next interval", job.name)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()


def sweep_accounts(db: Db, now: datetime, services: Services) -> int:
    return clean_accounts(db, now)


def sweep_timers(db: Db, now: datetime, services: Services) -> int:
    return timer.sweep(db, now)


def purge_idempotency_keys(db: Db, now: datetime, services: Services) -> int:
    """Keys older than `idempotency_hours`: a retry after that runs as a new instruction."""
    return idempotency.purge(db, now, timedelta(hours=services.settings.idempotency_hours))


def purge_events(db: Db, now: datetime, services: Services) -> int:
    """Events older than `event_days`: a subscriber's `after` no longer reaches them."""
    return events.purge(db, now, timedelta(days=services.settings.event_days))
