"""Delivering events to subscribed connections.

Events are read from the table, never handed over in memory: a wake-up only says "account N may
have new events", and each subscription reads its account's events above the last seq it sent.
So a wake-up may be early, late, doubled or spurious (a savepoint rolled back, a process far
away) and nothing is lost or sent twice; and a subscriber that stops reading costs nothing but
its place in the table. Wake-ups come from this process's commits (storage hook), from
PostgreSQL's NOTIFY, or from polling the table on SQLite (event_wakeups).

A subscription is one task per subscribed connection: wait for a wake-up, then while the
connection can take more (its write buffer below the high-water mark), read a page of events and
write them. The clock warning is scheduled here, from the instant the balance runs out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session as Db
from sqlalchemy.orm import sessionmaker

from ewallet.clock import Clock
from ewallet.domain import clock_events, events, views
from ewallet.domain.session_store import Lifetimes
from ewallet.metrics import Metrics
from ewallet.protocol import wire
from ewallet.schemas.events import event_line
from ewallet.settings import Settings
from ewallet.storage.models import TimeRecord

log = logging.getLogger(__name__)

#: Events read and written per round: what may sit in a connection's buffer beyond its limit.
PAGE = 100
#: The most events one read of the fan-out takes (for every account it serves together).
FAN_OUT_LIMIT = 2_000


class EventSink(Protocol):
    """Where a subscription writes: a TCP connection, or an HTTP event stream."""

    def send_events(self, events: list[tuple[int, bytes]]) -> None:
        """Write whole event lines (seq, encoded event), in order."""

    async def ready(self) -> None:
        """Return once the sink can take more (its unsent output is below its limit)."""

    def has_room(self) -> bool:
        """Whether the sink can take more now (what `ready` would return at once for)."""

    def closing(self) -> bool: ...


@dataclass(frozen=True)
class Stored:
    """One stored event as every subscriber of its account reads it: `line` is None for the
    internal kinds, which are never delivered."""

    seq: int
    kind: str
    line: bytes | None


@dataclass(frozen=True)
class State:
    """What a subscription judges by besides the events."""

    #: The account is still on the session's stack and the session lives.
    alive: bool
    #: The account's running timers, when asked for.
    running: list[clock_events.RunningClock] | None


#: Read again what a subscription judges by when these pass by.
_SESSION_CHANGED = frozenset({events.LOGGED_OUT})
_TIMERS_CHANGED = frozenset({events.TIMER_CHANGED, events.TIMER_STOPPED})
_RECHECKS = _SESSION_CHANGED | _TIMERS_CHANGED


class EventHub:
    """This process's subscriptions by account, and the database work they need."""

    def __init__(
        self,
        settings: Settings,
        read: sessionmaker[Db],
        write: sessionmaker[Db],
        clock: Clock,
        lifetimes: Lifetimes,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics if metrics is not None else Metrics()
        self.read = read
        self.write = write
        self.clock = clock
        self.lifetimes = lifetimes
        self.subscriptions: dict[int, set[Subscription]] = defaultdict(set)
        self.loop: asyncio.AbstractEventLoop | None = None
        # Its own small pool: delivery never waits behind instructions, nor they behind it.
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ewallet-events")
        #: Reads in flight, shared by the subscriptions that ask for the same page.
        self._reads: dict[tuple[int, int, str], asyncio.Future[list[Stored]]] = {}
        #: Accounts woken since the fan-out's last read, and whether the fan-out runs.
        self._pending: set[int] = set()
        self._fanning = False

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    @property
    def count(self) -> int:
        return sum(len(subs) for subs in self.subscriptions.values())

    def accounts(self) -> set[int]:
        return set(self.subscriptions)

    # -- wake-ups -----------------------------------------------------------------------------------

    def wake(self, accounts: Iterable[int]) -> None:
        """New events of these accounts may be stored: they join the next round of the fan-out."""
        self._pending.update(account for account in accounts if account in self.subscriptions)
        if self._pending and not self._fanning:
            self._fanning = True
            asyncio.get_running_loop().create_task(self._fan_out())

    async def _fan_out(self) -> None:
        """Deliver new events to the subscriptions that wait caught up, from one read for all
        the accounts woken together (a group commit wakes dozens) and without waking each
        subscription: at a thousand subscribers a read per account and a round per
        subscription (a task switch, a shielded wait, the checks) cost more than the
        instructions. The others (catching up, held by backpressure, with a session or timers
        to read again) are woken and read for themselves, page by page, as before; so is every
        subscription of an account whose new events ask for such a check or fill a page."""
        accounts: set[int] = set()
        try:
            while self._pending:
                accounts, self._pending = self._pending, set()
                await self._deliver_to_waiting(accounts)
        except Exception:
            log.exception("event fan-out failed; the subscriptions read for themselves")
            for account in accounts | self._pending:
                for subscription in list(self.subscriptions.get(account, ())):
                    subscription.wake()
            self._pending.clear()
        finally:
            self._fanning = False

    async def _deliver_to_waiting(self, accounts: set[int]) -> None:
        groups: dict[tuple[int, int, str], list[Subscription]] = defaultdict(list)
        for account in accounts:
            for subscription in list(self.subscriptions.get(account, ())):
                if subscription.waiting():
                    groups[(account, subscription.after, subscription.terms.email)].append(subscription)
                else:
                    subscription.wake()
        if not groups:
            return
        loop = asyncio.get_running_loop()
        pages = await loop.run_in_executor(self.executor, self._pages, list(groups))
        for (account, after, email), group in groups.items():
            page = pages.get((account, after, email))
            if page is not None and any(event.kind in _RECHECKS for event in page):
                page = None
            for subscription in group:
                # Checked again after the read: one that began a round of its own meanwhile
                # reads this page itself, and must not get it twice.
                if page is not None and subscription.waiting() and subscription.after == after:
                    subscription.take(page)
                else:
                    subscription.wake()

    def _pages(self, wanted: list[tuple[int, int, str]]) -> dict[tuple[int, int, str], list[Stored]]:
        """Each (account, after, email)'s page, from one read; left out when it would not fit a
        page (that subscription then pages for itself)."""
        afters: dict[int, int] = {}
        for account, after, _ in wanted:
            afters[account] = min(after, afters.get(account, after))
        pages: dict[tuple[int, int, str], list[Stored]] = {}
        with self.read.begin() as db:
            stored = events.read_after_each(db, afters, FAN_OUT_LIMIT)
            if stored is None:
                return pages
            by_account: dict[int, list[events.StoredEvent]] = defaultdict(list)
            for event in stored:
                by_account[event.account_id].append(event)
            for account, after, email in wanted:
                new = [event for event in by_account[account] if event.seq > after]
                if len(new) < PAGE:
                    pages[(account, after, email)] = self._page(db, email, new)
        return pages

    def wake_all(self) -> None:
        self.wake(list(self.subscriptions))

    def wake_threadsafe(self, accounts: set[int]) -> None:
        """From any thread (a commit hook, the NOTIFY listener)."""
        loop = self.loop
        if loop is not None and accounts and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody is left to wake
                loop.call_soon_threadsafe(self.wake, accounts)

    def after_commit(self, db: Db) -> None:
        """The storage hook: a transaction that recorded events committed. SQLAlchemy also
        calls it when a savepoint is released (group commit), when nothing is visible to other
        connections yet: a wake-up then would be read too early and lost."""
        if not db.in_nested_transaction():
            self.wake_threadsafe(events.woken_accounts(db))

    @staticmethod
    def after_rollback(db: Db) -> None:
        if not db.in_nested_transaction():  # a savepoint's rollback leaves the rest to commit
            events.woken_accounts(db)

    # -- subscriptions -----------------------------------------------------------------------------

    def subscribe(self, terms: events.SubscriptionTerms, sink: EventSink) -> Subscription:
        subscription = Subscription(self, terms, sink)
        self.subscriptions[terms.account_id].add(subscription)
        subscription.start()
        return subscription

    def detach(self, subscription: Subscription) -> None:
        subs = self.subscriptions.get(subscription.terms.account_id)
        if subs is not None:
            subs.discard(subscription)
            if not subs:
                del self.subscriptions[subscription.terms.account_id]

    # -- database work, on the hub's threads ------------------------------------------------------

    async def stored(self, account_id: int, after: int, email: str) -> list[Stored]:
        """A page of the account's events above `after`, as lines naming `email`. Whoever asks
        for the same page while it is read shares the read."""
        key = (account_id, after, email)
        future = self._reads.get(key)
        if future is None:
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self.executor, self._stored, account_id, email, after)
            self._reads[key] = future
            future.add_done_callback(lambda _: self._reads.pop(key, None))
        return await asyncio.shield(future)

    def _stored(self, account_id: int, email: str, after: int) -> list[Stored]:
        with self.read.begin() as db:
            return self._page(db, email, events.read_after(db, account_id, after, PAGE))

    def _page(self, db: Db, email: str, stored: list[events.StoredEvent]) -> list[Stored]:
        public = [event for event in stored if event.kind in events.KINDS]
        lines = dict(self._lines(db, email, public))
        return [Stored(event.seq, event.kind, lines.get(event.seq)) for event in stored]

    async def state(self, terms: events.SubscriptionTerms, *, session: bool, timers: bool) -> State:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._state, terms, session, timers)

    def _state(self, terms: events.SubscriptionTerms, session: bool, timers: bool) -> State:
        with self.read.begin() as db:
            if session and not events.still_subscribed(
                db, terms.session_id, terms.account_id, self.clock.now(), self.lifetimes
            ):
                return State(alive=False, running=None)
            running = clock_events.running_clocks(db, terms.account_id) if timers else None
        return State(alive=True, running=running)

    def _lines(self, db: Db, email: str, stored: list[events.StoredEvent]) -> list[tuple[int, bytes]]:
        """The wire lines, with the records the events name (a transfer record by its id: a page
        under load holds one or two)."""
        wanted = {kind: [e.ref_id for e in stored if e.kind == kind and e.ref_id is not None] for kind in events.KINDS}
        transfers = views.transfer_records(db, wanted[events.CREDITS_RECEIVED])
        times = _time_records(db, wanted[events.TIMER_STOPPED])
        zone = self.settings.zone
        lines = []
        named: dict[str, Mapping[int, views.RecordInfo]] = {
            events.CREDITS_RECEIVED: transfers,
            events.TIMER_STOPPED: times,
        }
        for event in stored:
            record = named.get(event.kind, {}).get(event.ref_id or 0)
            obj = event_line(event, email, record, zone)
            lines.append((event.seq, wire.encode(obj)))
        return lines

    async def warn(self, clock_id: int, run_id: int, threshold: int) -> datetime | None:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._warn, clock_id, run_id, threshold)

    def _warn(self, clock_id: int, run_id: int, threshold: int) -> datetime | None:
        with self.write.begin() as db:
            return clock_events.clock_low(db, clock_id, run_id, threshold, self.clock.now())

    def close(self) -> None:
        for subs in list(self.subscriptions.values()):
            for subscription in list(subs):
                subscription.stop()
        self.executor.shutdown(wait=True, cancel_futures=True)


def _time_records(db: Db, ids: list[int]) -> dict[int, views.RecordInfo]:
    if not ids:
        return {}
    return {row.id: views.record_data(row) for row in db.scalars(select(TimeRecord).where(TimeRecord.id.in_(ids)))}


class Subscription:
    """One connection's subscription: delivers in seq order from `after`, once each."""

    def __init__(self, hub: EventHub, terms: events.SubscriptionTerms, sink: EventSink) -> None:
        self.hub = hub
        self.terms = terms
        self.sink = sink
        self.after = terms.after
        self._woken = asyncio.Event()
        self._woken.set()  # the first round reads what is stored already
        self._task: asyncio.Task[None] | None = None
        self._timers: dict[tuple[int, int], asyncio.TimerHandle] = {}
        self._warned: set[tuple[int, int]] = set()
        self._expiry: asyncio.TimerHandle | None = None
        #: Read the session and the timers again on the next page (a new subscription, expiry).
        self._recheck = True
        #: The delivery task waits for a wake-up (it is not in the middle of a round).
        self._idle = False
        self._on_end: list[Callable[[], None]] = []
        self.ended = False

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._deliver())
        # The session's end is checked when it comes (the read then finds it expired).
        self._expiry = loop.call_later(self._seconds_until(self.terms.expires) + 0.05, self.check_session)

    def wake(self) -> None:
        self._woken.set()

    def waiting(self) -> bool:
        """Caught up and waiting, with nothing to check again and room to write: the hub may
        hand it a page (`take`) instead of waking it."""
        return (
            self._idle
            and not self._woken.is_set()
            and not self._recheck
            and not self.ended
            and self.sink.has_room()
            and not self.sink.closing()
        )

    def take(self, page: list[Stored]) -> None:
        """Write the page's events this subscription wants, and move past the page."""
        lines = [(e.seq, e.line) for e in page if e.line is not None and e.kind in self.terms.kinds]
        if lines:
            self.sink.send_events(lines)
            self.hub.metrics.events_delivered.inc(len(lines))
        if page:
            self.after = page[-1].seq

    def check_session(self) -> None:
        """Read the session again (its expiry timer calls this): the subscription ends if the
        session has expired or the account is no longer on its stack."""
        self._recheck = True
        self.wake()

    def on_end(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the subscription ends, however it ends (at once if it has): a
        face whose stream exists only for the events (HTTP) then ends that stream."""
        if self.ended:
            callback()
        else:
            self._on_end.append(callback)

    def stop(self) -> None:
        """End now: nothing more is written."""
        self._end()
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()

    def _end(self) -> None:
        if self.ended:
            return
        self.ended = True
        self.hub.detach(self)
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        if self._expiry is not None:
            self._expiry.cancel()
        callbacks, self._on_end = self._on_end, []
        for callback in callbacks:
            callback()

    async def _deliver(self) -> None:
        try:
            while not self.ended:
                self._idle = True
                try:
                    await self._woken.wait()
                finally:
                    self._idle = False
                self._woken.clear()
                if not await self._drain():
                    return
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("event delivery to %s failed; the subscription ends", self.terms.email)
        finally:
            self._end()

    async def _drain(self) -> bool:
        """Deliver everything stored above `after`; False once the subscription is over."""
        while True:
            await self.sink.ready()
            if self.ended or self.sink.closing():
                return False
            recheck, self._recheck = self._recheck, False
            page = await self.hub.stored(self.terms.account_id, self.after, self.terms.email)
            if self.ended or self.sink.closing():
                return False
            seen = {event.kind for event in page}
            session = recheck or bool(seen & _SESSION_CHANGED)
            timers = events.CLOCK_LOW in self.terms.kinds and (recheck or bool(seen & _TIMERS_CHANGED))
            if session or timers:
                state = await self.hub.state(self.terms, session=session, timers=timers)
                if not state.alive or self.ended:
                    return False
                if state.running is not None:
                    self._schedule_warnings(state.running)
            self.take(page)
            if len(page) < PAGE:
                return True

    # -- the clock warning -------------------------------------------------------------------------

    def _seconds_until(self, instant: datetime) -> float:
        return max((instant - self.hub.clock.now()).total_seconds(), 0.0)

    def _schedule_warnings(self, running: list[clock_events.RunningClock]) -> None:
        current = {(clock.clock_id, clock.run_id): clock for clock in running}
        for key in list(self._timers):
            if key not in current:  # paused, stopped or ran out: its time is no longer known
                self._timers.pop(key).cancel()
        for key, clock in current.items():
            if key in self._warned:
                continue
            due = clock.expected_stop - timedelta(microseconds=self.terms.clock_low * 600_000)
            self._arm(key, due)

    def _arm(self, key: tuple[int, int], due: datetime) -> None:
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(self._seconds_until(due), lambda: loop.create_task(self._fire(key)))

    async def _fire(self, key: tuple[int, int]) -> None:
        self._timers.pop(key, None)
        if self.ended:
            return
        try:
            later = await self.hub.warn(key[0], key[1], self.terms.clock_low)
        except Exception:
            log.exception("the clock warning for clock %d could not be recorded; trying again", key[0])
            later = self.hub.clock.now() + timedelta(seconds=1)
        if self.ended:
            return
        if later is None:
            self._warned.add(key)
        else:
            self._arm(key, later)


class ConnectionEvents:
    """A connection's event channel (handlers.context.EventChannel). The instruction offers a
    change on its database thread; the face applies it once the answer is written, and only if
    the answer succeeded, so the subscribe answer always comes before the first event."""

    def __init__(self, hub: EventHub, sink: EventSink) -> None:
        self.hub = hub
        self.sink = sink
        self.subscription: Subscription | None = None
        #: ("subscribe", terms) or ("unsubscribe", None), waiting for the answer.
        self._pending: tuple[str, events.SubscriptionTerms | None] | None = None

    @property
    def subscribed(self) -> bool:
        return self.subscription is not None and not self.subscription.ended

    def offer(self, terms: events.SubscriptionTerms) -> None:
        self._pending = ("subscribe", terms)

    def withdraw(self) -> None:
        self._pending = ("unsubscribe", None)

    def answered(self, ok: bool) -> None:
        if not ok:
            self._pending = None

    def after_answer(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        self.close()
        kind, terms = pending
        if kind == "subscribe" and terms is not None:
            self.subscription = self.hub.subscribe(terms, self.sink)

    def close(self) -> None:
        if self.subscription is not None:
            self.subscription.stop()
            self.subscription = None
