"""Who is asking: the live session a token opens and the account on top of its login stack,
read in one statement into one frozen value. Handlers read the caller from it; a handler that
changes the account or the session loads that row explicitly (Context.load_account), so nothing
can write through a value that is not a mapped object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session as Db

from ewallet.domain.errors import Unauthorized
from ewallet.domain.session_store import Lifetimes, effective_expiry
from ewallet.domain.tokens import token_digest
from ewallet.storage.models import Account, ClientId, EwalletSession, StackEntry
from ewallet.storage.statements import Statement


class AccountPointers(Protocol):
    """What reading the caller's resources needs: a mapped account or a snapshot of one."""

    @property
    def id(self) -> int: ...
    @property
    def active_ewallet_id(self) -> int | None: ...
    @property
    def active_contact_list_id(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """The caller's account as it was when the instruction began."""

    id: int
    email: str
    active_ewallet_id: int | None
    active_contact_list_id: int | None


@dataclass(frozen=True, slots=True)
class Caller:
    client_id: str
    session_id: int
    #: When the session ends (an unused session ends sooner than its expiration date).
    expires: datetime
    #: None while nobody is logged in on the session.
    account: AccountSnapshot | None


_SESSIONS, _ACCOUNTS, _STACK = EwalletSession.__table__, Account.__table__, StackEntry.__table__
_TOP_OF_STACK = (
    select(_STACK.c.account_id)
    .where(_STACK.c.session_id == _SESSIONS.c.id)
    .order_by(_STACK.c.position.desc())
    .limit(1)
    .correlate(_SESSIONS)
    .scalar_subquery()
)
#: Built once: the hot path then skips statement construction and cache-key generation.
_CALLER = (
    select(
        _SESSIONS.c.id,
        _SESSIONS.c.had_login,
        _SESSIONS.c.create_date,
        _SESSIONS.c.expiration_date,
        ClientId.__table__.c.client_id.label("owner"),
        _ACCOUNTS.c.id.label("account_id"),
        _ACCOUNTS.c.email,
        _ACCOUNTS.c.active_ewallet_id,
        _ACCOUNTS.c.active_contact_list_id,
    )
    .join(ClientId.__table__, ClientId.__table__.c.id == _SESSIONS.c.client_ref)
    .outerjoin(_ACCOUNTS, _ACCOUNTS.c.id == _TOP_OF_STACK)
    .where(_SESSIONS.c.token_digest == bindparam("digest"))
)
_CALLER_LOCKED = Statement(_CALLER.with_for_update(of=_SESSIONS))
_CALLER_READ = Statement(_CALLER)


def authenticate(
    db: Db, client_id: object, token: object, now: datetime, lifetimes: Lifetimes, *, lock: bool
) -> Caller:
    """The caller the token names, refused unless the session is live and belongs to client_id.
    `lock` takes the session's row lock for the rest of the transaction: on PostgreSQL that keeps
    one session's writes in order across processes; a read needs none."""
    if not isinstance(client_id, str) or not isinstance(token, str):
        raise Unauthorized("client_id and session_token are required")
    row = (_CALLER_LOCKED if lock else _CALLER_READ).first(db, {"digest": token_digest(token)})
    if row is None:
        raise Unauthorized("the session token is unknown")
    if row.owner != client_id:
        raise Unauthorized("the session token does not belong to this client id")
    expires = effective_expiry(row, lifetimes)
    if expires <= now:
        raise Unauthorized("the session has expired")
    account = None
    if row.account_id is not None:
        account = AccountSnapshot(row.account_id, row.email, row.active_ewallet_id, row.active_contact_list_id)
    return Caller(client_id, row.id, expires, account)
