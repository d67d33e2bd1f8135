"""The commit hook wakes subscribers only once a transaction's events are visible: a savepoint's
release (group commit) is not a commit, and a rolled-back transaction wakes nobody."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from ewallet.clock import ManualClock
from ewallet.domain import events
from ewallet.domain.session_store import Lifetimes
from ewallet.scheduling.events import EventHub
from ewallet.settings import Settings
from ewallet.storage.database import create_db_engine, session_factory

pytestmark = pytest.mark.asyncio


class Woken(EventHub):
    """The real hub, remembering whom it woke."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.woken: list[set[int]] = []

    def wake(self, accounts: object) -> None:
        self.woken.append(set(accounts))  # type: ignore[call-overload]


async def test_wakes_after_the_commit_not_at_a_savepoint_and_never_after_a_rollback(backend_url: str) -> None:
    engine = create_db_engine(backend_url, pool_size=2)
    write, read = session_factory(engine), session_factory(engine, read_only=True)
    hub = Woken(Settings(), read, write, ManualClock(), Lifetimes(timedelta(hours=1), timedelta(hours=1)))
    hub.start(asyncio.get_running_loop())
    event.listen(write, "after_commit", hub.after_commit)
    event.listen(write, "after_rollback", hub.after_rollback)
    now = datetime.now(UTC)
    try:
        db = write()
        db.begin()
        savepoint = db.begin_nested()
        events.record(db, 7, events.LOGIN, {"login_record": 1, "session": 1}, now)
        savepoint.commit()
        await asyncio.sleep(0.05)
        assert hub.woken == []  # released, not committed: nobody else can read it yet
        doomed = db.begin_nested()
        events.record(db, 8, events.LOGIN, {"login_record": 2, "session": 1}, now)
        doomed.rollback()
        db.commit()
        await asyncio.sleep(0.05)
        assert hub.woken == [{7, 8}]  # 8 is spurious (rolled back), and harmless: readers find nothing
        db.close()
        db = write()
        db.begin()
        events.record(db, 9, events.LOGIN, {"login_record": 3, "session": 1}, now)
        db.rollback()
        db.begin()
        db.commit()
        await asyncio.sleep(0.05)
        assert hub.woken == [{7, 8}]
        db.close()
    finally:
        hub.executor.shutdown()
        engine.dispose()
