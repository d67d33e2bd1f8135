"""Events: what happened to an account, stored in the transaction of the effect (an outbox) and
read back by subscribers after commit. An event's id is its `seq`.

Order is per account, and it is the one thing delivery relies on: a subscriber reads `seq >
last seen` of its account, so an event must never commit after a later `seq` of the same account
has been read. SQLite has one writer, so ids are taken in commit order. PostgreSQL hands out ids
at insert time to transactions that commit in any order, so a transaction takes a transaction
lock on the account (an advisory lock) before it takes an id for that account's event: the
next event of that account waits until this one has committed or rolled back. The lock is taken
last in a transaction (an event is written after the effect), so it never waits behind a row
lock held by somebody waiting for it.

Besides the kinds users see, two internal kinds only wake subscribers (a timer changed, so the
clock warning is rescheduled; a logout, which may end a subscription) and are never delivered."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import BigInteger, Integer, String, Table, bindparam, delete, func, insert, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session as Db

from ewallet.domain import session_store
from ewallet.storage.models import CreditClock, CreditEwallet, Event, EwalletSession, StackEntry
from ewallet.storage.statements import Statement, insert_values, transaction_connection

CREDITS_RECEIVED, LOGIN, CLOCK_LOW, TIMER_STOPPED = "credits_received", "login", "clock_low", "timer_stopped"
#: The kinds a subscriber can receive, in the order the protocol lists them.
KINDS: tuple[str, ...] = (CREDITS_RECEIVED, LOGIN, CLOCK_LOW, TIMER_STOPPED)
TIMER_CHANGED, LOGGED_OUT = "timer_changed", "logged_out"
#: The marker row written when the table was created (migration 0004); its ref_id is the last
#: transfer record made before.
EVENTS_BEGAN = "events_began"
#: The channel PostgreSQL notifies on commit of an event: the payload is the account id.
CHANNEL = "ewallet_events"
#: Keys the pending wake-ups in a session's `info` until commit.
WAKE_KEY = "ewallet_event_accounts"
#: The first key of the advisory lock that orders one account's events on PostgreSQL.
_LOCK_SPACE = 0x45565453  # "EVTS"
_EVENTS = cast(Table, Event.__table__)
_COLUMNS = ("account_id", "kind", "ref_id", "once_key", "data", "create_date")
_INSERT = Statement(insert_values(_EVENTS, _COLUMNS).returning(_EVENTS.c.id))


def _ordered_insert() -> Any:
    """PostgreSQL's insert, one statement: the account's advisory lock and the NOTIFY come from a
    one-row subquery, which runs before the row's id (its default) is computed from it."""
    account = bindparam("account_id", type_=BigInteger)
    gate = select(
        func.pg_advisory_xact_lock(_LOCK_SPACE, sql_cast(account % 2147483647, Integer)).label("locked"),
        func.pg_notify(CHANNEL, sql_cast(account, String)).label("notified"),
    ).subquery("gate")
    row = select(*(bindparam(name, type_=_EVENTS.c[name].type) for name in _COLUMNS)).select_from(gate)
    return insert(_EVENTS).from_select(list(_COLUMNS), row).returning(_EVENTS.c.id)


_INSERT_ORDERED = Statement(_ordered_insert())


def record(
    db: Db,
    account_id: int,
    kind: str,
    data: dict[str, Any],
    now: datetime,
    *,
    ref_id: int | None = None,
    once_key: str | None = None,
) -> int:
    """Store an event of the account in the current transaction; its subscribers are woken
    once the transaction commits. Returns its seq."""
    values = {
        "account_id": account_id,
        "kind": kind,
        "ref_id": ref_id,
        "once_key": once_key,
        "data": data,
        "create_date": now,
    }
    statement = _INSERT_ORDERED if transaction_connection(db).dialect.name == "postgresql" else _INSERT
    seq = int(statement.scalar(db, values))
    db.info.setdefault(WAKE_KEY, set()).add(account_id)
    return seq


def woken_accounts(db: Db) -> set[int]:
    """The accounts the session's transaction recorded events of (taken: asked once per commit)."""
    accounts: set[int] = db.info.pop(WAKE_KEY, set())
    return accounts


_OWNER = Statement(select(CreditEwallet.__table__.c.account_id).where(CreditEwallet.__table__.c.id == bindparam("id")))


def clock_owner(db: Db, clock: CreditClock) -> int:
    return int(_OWNER.scalar(db, {"id": clock.ewallet_id}))


def timer_changed(db: Db, clock: CreditClock, now: datetime) -> None:
    record(db, clock_owner(db, clock), TIMER_CHANGED, {"clock": clock.id}, now)


@dataclass(frozen=True)
class SubscriptionTerms:
    """What a subscriber asked for, bound to the account active on its session when it asked."""

    account_id: int
    email: str
    session_id: int
    #: Events with a higher seq are delivered.
    after: int
    kinds: tuple[str, ...]
    #: The clock warning's threshold in hundredths of a minute.
    clock_low: int
    #: When the session expires (the subscription is checked again then).
    expires: datetime


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    kind: str
    account_id: int
    ref_id: int | None
    data: dict[str, Any]
    create_date: datetime


@dataclass(frozen=True)
class Bounds:
    """The account's newest and oldest kept event (None when it has none)."""

    last: int | None
    oldest: int | None


def bounds(db: Db, account_id: int) -> Bounds:
    last, oldest = db.execute(
        select(func.max(Event.id), func.min(Event.id)).where(Event.account_id == account_id, Event.kind.in_(KINDS))
    ).one()
    return Bounds(last, oldest)


def newest_seq(db: Db) -> int:
    """The highest seq of any event: where a process that polls for new events begins."""
    return int(db.scalar(select(func.max(Event.id))) or 0)


def accounts_since(db: Db, after: int, limit: int = 10_000) -> tuple[int, set[int]]:
    """The accounts with events above `after`, and the highest seq seen (for polling)."""
    rows = db.execute(select(Event.id, Event.account_id).where(Event.id > after).order_by(Event.id).limit(limit)).all()
    if not rows:
        return after, set()
    return int(rows[-1][0]), {int(row[1]) for row in rows if row[1] is not None}


_READ_AFTER = Statement(
    select(_EVENTS.c.id, _EVENTS.c.kind, _EVENTS.c.ref_id, _EVENTS.c.data, _EVENTS.c.create_date)
    .where(_EVENTS.c.account_id == bindparam("account"), _EVENTS.c.id > bindparam("after"))
    .order_by(_EVENTS.c.id)
    .limit(bindparam("limit"))
)


def read_after(db: Db, account_id: int, after: int, limit: int) -> list[StoredEvent]:
    """The account's events (every kind, the internal ones too) with seq above `after`, oldest
    first: a subscriber filters them, and learns from the internal ones what to look at again."""
    return [
        StoredEvent(seq, kind, account_id, ref_id, data, created)
        for seq, kind, ref_id, data, created in _READ_AFTER.all(
            db, {"account": account_id, "after": after, "limit": limit}
        )
    ]


def read_after_each(db: Db, afters: dict[int, int], limit: int) -> list[StoredEvent] | None:
    """For several accounts at once: the events (every kind) of each account with seq above its
    own `after`, oldest first; None when there are more than `limit` to look at."""
    e = _EVENTS.c
    query = (
        select(e.id, e.kind, e.account_id, e.ref_id, e.data, e.create_date)
        .where(e.account_id.in_(list(afters)), e.id > min(afters.values()))
        .order_by(e.id)
        .limit(limit)
    )
    rows = db.execute(query).all()
    if len(rows) >= limit:
        return None
    return [
        StoredEvent(seq, kind, account_id, ref_id, data, created)
        for seq, kind, account_id, ref_id, data, created in rows
        if seq > afters[account_id]
    ]


def still_subscribed(
    db: Db, session_id: int, account_id: int, now: datetime, lifetimes: session_store.Lifetimes
) -> bool:
    """A subscription lives while its account is on its session's login stack and the session
    has not expired."""
    query = (
        select(StackEntry.id)
        .join(EwalletSession, EwalletSession.id == StackEntry.session_id)
        .where(
            StackEntry.session_id == session_id,
            StackEntry.account_id == account_id,
            session_store.live_condition(now, lifetimes),
        )
    )
    return db.scalar(query) is not None


def purge(db: Db, now: datetime, keep: timedelta, batch: int = 10_000) -> int:
    """Forget events older than `keep` (the marker row stays: the audit needs it)."""
    old = select(Event.id).where(Event.create_date < now - keep, Event.kind != EVENTS_BEGAN).limit(batch)
    ids = list(db.scalars(old))
    if ids:
        db.execute(delete(Event).where(Event.id.in_(ids)))
    return len(ids)


def kept_after(db: Db) -> int | None:
    """The last transfer record made before the database began keeping events."""
    return db.scalar(select(Event.ref_id).where(Event.kind == EVENTS_BEGAN).order_by(Event.id).limit(1))


def filter_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    return KINDS if kinds is None else tuple(k for k in KINDS if k in set(kinds))
