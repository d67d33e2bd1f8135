"""Client ids, ewallet sessions and their login stacks, in the database: a restart or a
second process on the same database sees the same sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session as Db
from sqlalchemy.sql.elements import ColumnElement

from ewallet.domain.errors import AlreadyMapped, Unauthorized
from ewallet.domain.tokens import new_client_id, new_session_token, token_digest
from ewallet.storage.models import Account, ClientId, EwalletSession, StackEntry


@dataclass(frozen=True)
class Lifetimes:
    session: timedelta
    unused: timedelta


class SessionTimes(Protocol):
    """What a session's lifetime depends on: a mapped session or a row read with these columns."""

    @property
    def had_login(self) -> bool: ...
    @property
    def create_date(self) -> datetime: ...
    @property
    def expiration_date(self) -> datetime: ...


def effective_expiry(session: SessionTimes, lifetimes: Lifetimes) -> datetime:
    """A session that never had a login lives at most `unused` from its creation."""
    if session.had_login:
        return session.expiration_date
    return min(session.expiration_date, session.create_date + lifetimes.unused)


def live_condition(now: datetime, lifetimes: Lifetimes) -> ColumnElement[bool]:
    """SQL for effective_expiry(session) > now."""
    return and_(
        EwalletSession.expiration_date > now,
        or_(EwalletSession.had_login.is_(True), EwalletSession.create_date > now - lifetimes.unused),
    )


def create_client_id(db: Db, now: datetime, lifetimes: Lifetimes) -> str:
    value = new_client_id()
    db.add(ClientId(client_id=value, create_date=now, expiration_date=now + lifetimes.unused))
    db.flush()
    return value


def _client_row(db: Db, client_id: str, now: datetime, *, lock: bool = False) -> ClientId:
    if "\x00" in client_id:  # no client id holds one, and PostgreSQL refuses it in a query
        raise Unauthorized("client_id is unknown or expired")
    query = select(ClientId).where(ClientId.client_id == client_id)
    if lock:
        query = query.with_for_update()
    row = db.scalars(query).first()
    if row is None or (row.expiration_date is not None and row.expiration_date <= now):
        raise Unauthorized("client_id is unknown or expired")
    return row


def check_client_id(db: Db, client_id: str, now: datetime) -> ClientId:
    return _client_row(db, client_id, now)


def create_session(
    db: Db,
    client_id: str,
    now: datetime,
    lifetimes: Lifetimes,
    requested_expiry: datetime | None = None,
    peer: str | None = None,
) -> tuple[str, EwalletSession]:
    """A new token and session for client_id, requested from `peer` (kept for the per-address
    cap). The client row is locked first, so the live-token check and the insert are atomic (on
    SQLite, BEGIN IMMEDIATE already serialises writers)."""
    client = _client_row(db, client_id, now, lock=True)
    live = db.scalar(
        select(func.count())
        .select_from(EwalletSession)
        .where(EwalletSession.client_ref == client.id, live_condition(now, lifetimes))
    )
    if live:
        raise AlreadyMapped()
    token = new_session_token()
    expiry = now + lifetimes.session
    if requested_expiry is not None:
        expiry = min(expiry, requested_expiry)
    session = EwalletSession(
        client_ref=client.id,
        token_digest=token_digest(token),
        create_date=now,
        write_date=now,
        expiration_date=expiry,
        had_login=False,
        peer=peer,
    )
    db.add(session)
    client.expiration_date = None
    db.flush()
    return token, session


def create_system_session(db: Db, now: datetime, lifetimes: Lifetimes, reference: str | None) -> EwalletSession:
    """A session bound to no client id, reachable only through system instructions."""
    session = EwalletSession(
        reference=reference or "EWallet Session",
        client_ref=None,
        token_digest=None,
        create_date=now,
        write_date=now,
        expiration_date=now + lifetimes.session,
        had_login=False,
    )
    db.add(session)
    db.flush()
    return session


# -- the login stack ------------------------------------------------------------------------------


def stack(db: Db, session_id: int) -> list[Account]:
    """This session's logged-in accounts, bottom to top."""
    return list(
        db.scalars(
            select(Account)
            .join(StackEntry, StackEntry.account_id == Account.id)
            .where(StackEntry.session_id == session_id)
            .order_by(StackEntry.position)
        )
    )


def push(db: Db, session: EwalletSession, account_id: int, now: datetime, lifetimes: Lifetimes) -> None:
    """Move the account to the top of this session's stack (no duplicates)."""
    top = db.scalar(select(func.max(StackEntry.position)).where(StackEntry.session_id == session.id)) or 0
    entry = db.scalars(
        select(StackEntry).where(StackEntry.session_id == session.id, StackEntry.account_id == account_id)
    ).first()
    if entry is None:
        db.add(StackEntry(session_id=session.id, account_id=account_id, position=top + 1))
    elif entry.position != top:
        entry.position = top + 1
    if not session.had_login:
        # The first login lifts the one-hour limit of an unused session.
        session.had_login = True
        session.expiration_date = min(session.expiration_date, session.create_date + lifetimes.session)
    session.write_date = now
    db.flush()


def pop(db: Db, session: EwalletSession, now: datetime) -> Account | None:
    """Remove the top account; returns it (None when the stack was empty)."""
    entry = db.scalars(
        select(StackEntry).where(StackEntry.session_id == session.id).order_by(StackEntry.position.desc()).limit(1)
    ).first()
    if entry is None:
        return None
    account = db.get(Account, entry.account_id)
    db.delete(entry)
    session.write_date = now
    db.flush()
    return account


def remove_from_all_stacks(db: Db, account_id: int) -> None:
    db.execute(delete(StackEntry).where(StackEntry.account_id == account_id))


def is_logged_in(db: Db, account_id: int, now: datetime, lifetimes: Lifetimes) -> bool:
    """On at least one live session's stack."""
    return bool(
        db.scalar(
            select(func.count())
            .select_from(StackEntry)
            .join(EwalletSession, EwalletSession.id == StackEntry.session_id)
            .where(StackEntry.account_id == account_id, live_condition(now, lifetimes))
        )
    )


# -- removal ----------------------------------------------------------------------------------------


def remove_sessions(db: Db, session_ids: list[int]) -> int:
    """Drop sessions and their stacks (no logout records)."""
    if not session_ids:
        return 0
    db.execute(delete(StackEntry).where(StackEntry.session_id.in_(session_ids)))
    result = db.execute(delete(EwalletSession).where(EwalletSession.id.in_(session_ids)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def sessions_matching(
    db: Db, *, session_id: int | None = None, token: str | None = None, client_id: str | None = None
) -> list[int]:
    query = select(EwalletSession.id)
    if session_id is not None:
        query = query.where(EwalletSession.id == session_id)
    elif token is not None:
        query = query.where(EwalletSession.token_digest == token_digest(token))
    elif client_id is not None:
        query = query.join(ClientId, ClientId.id == EwalletSession.client_ref).where(ClientId.client_id == client_id)
    return list(db.scalars(query))


def expired_sessions(db: Db, now: datetime, lifetimes: Lifetimes, limit: int = 1000) -> list[int]:
    """Expired sessions, claimed with SKIP LOCKED so two processes' sweeps do not collide."""
    query = (
        select(EwalletSession.id)
        .where(~live_condition(now, lifetimes))
        .order_by(EwalletSession.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(db.scalars(query))


def purge_expired_client_ids(db: Db, now: datetime) -> int:
    result = db.execute(
        delete(ClientId).where(
            ClientId.expiration_date.is_not(None),
            ClientId.expiration_date <= now,
            ~select(EwalletSession.id).where(EwalletSession.client_ref == ClientId.id).exists(),
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
