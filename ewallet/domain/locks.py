"""The lock discipline: which rows an instruction locks before it judges a rule.

A rule that reads one object and changes another (unlink only while empty, the last resource,
active objects are visible, nothing paid into an account pending deletion, a timer runs only on
the active clock) holds under concurrency because both sides of every such race lock the same
row first: the **account row** guards the shape of everything the account owns.

- Instructions that change the shape (new, switch, unlink, the deletion order, the cleaner,
  account edits) take the account row `FOR UPDATE`: one at a time per account.
- Instructions that change balances or timer state (supply, pay, transfer, convert, the timer)
  take it `FOR KEY SHARE` — on the receiving account too, and on both accounts of a movement in
  ascending id order. They run beside each other, never beside a shape change, and re-read the
  active chain and the deletion order after the lock.
- Below the account, rows are locked parent before child (ewallet, clock, sheet, record) and
  among equals in ascending id order. Holding a clock lock (the timer sweep, settling a run-out
  timer on a view) never waits for an ewallet or account lock, so no cycle can form.

On SQLite every write transaction already holds the single writer lock (BEGIN IMMEDIATE) and the
clauses below render as nothing: the same code is correct there with any number of processes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session as Db

from ewallet.domain.errors import AccountPendingDeletion, NotFound
from ewallet.storage.models import Account, CreditClock, CreditEwallet
from ewallet.storage.statements import Statement

_ACCOUNTS = Account.__table__
# ORDER BY puts the sort below the row locking, so the rows are locked in ascending id order.
# Two fixed parameters (the same id twice for one account) keep the text fixed: an expanding IN
# would be rendered again on every execution.
_SHARED_ACCOUNTS = Statement(
    select(_ACCOUNTS)
    .where(_ACCOUNTS.c.id.in_([bindparam("first"), bindparam("second")]))
    .order_by(_ACCOUNTS.c.id)
    .with_for_update(read=True, key_share=True)
)


def lock_account(db: Db, account_id: int) -> Account:
    """The account, locked against every other change of its shape and balances, and reloaded
    (what the instruction read before the lock may be stale)."""
    query = select(Account).where(Account.id == account_id).with_for_update()
    return db.scalars(query.execution_options(populate_existing=True)).one()


def share_accounts(db: Db, first: int, second: int | None = None) -> dict[int, Any]:
    """One or two accounts as fresh rows, each held `FOR KEY SHARE` (ascending id order): no
    shape change or deletion order of theirs can commit until this transaction ends."""
    rows = _SHARED_ACCOUNTS.all(db, {"first": first, "second": first if second is None else second})
    return {row.id: row for row in rows}


def lock_ewallet(db: Db, ewallet_id: int | None) -> CreditEwallet | None:
    """A visible ewallet, row-locked for a read-then-write and reloaded; None when hidden."""
    if ewallet_id is None:
        return None
    query = select(CreditEwallet).where(CreditEwallet.id == ewallet_id, CreditEwallet.hidden.is_(False))
    # NO KEY UPDATE: ledger rows that name this ewallet (their foreign key takes KEY SHARE)
    # can still be written beside it.
    query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    return db.scalars(query).first()


def lock_clock(db: Db, clock_id: int) -> CreditClock:
    """The clock, row-locked for a read-then-write and reloaded."""
    query = select(CreditClock).where(CreditClock.id == clock_id).with_for_update(key_share=True)
    return db.scalars(query.execution_options(populate_existing=True)).one()


def _held_account(db: Db, account_id: int) -> Any:
    account = share_accounts(db, account_id).get(account_id)
    if account is None or account.anonymised or account.deletion_date is not None:
        raise AccountPendingDeletion()
    return account


def _locked_active_clock(db: Db, active_clock_id: int | None) -> CreditClock:
    clock = lock_clock(db, active_clock_id) if active_clock_id else None
    if clock is None or clock.hidden:
        raise NotFound("the active ewallet has no active credit clock")
    return clock


def held_chain(db: Db, account_id: int) -> tuple[CreditEwallet, CreditClock]:
    """For a balance change between credits and minutes: the account held, then its active
    ewallet and that ewallet's active clock locked, both visible. Under the held account no
    switch or unlink can move the chain until this transaction ends."""
    account = _held_account(db, account_id)
    ewallet = lock_ewallet(db, account.active_ewallet_id)
    if ewallet is None:
        raise NotFound("the account has no active credit ewallet")
    return ewallet, _locked_active_clock(db, ewallet.active_clock_id)


_ACTIVE_CLOCK_OF = Statement(
    select(CreditEwallet.__table__.c.active_clock_id).where(
        CreditEwallet.__table__.c.id == bindparam("id"), CreditEwallet.__table__.c.hidden.is_(False)
    )
)


def held_clock(db: Db, account_id: int) -> CreditClock:
    """For a timer change: as `held_chain`, with the ewallet only read (its credits do not
    change), so that a timer and a conversion or movement of the same ewallet run side by side."""
    account = _held_account(db, account_id)
    ewallet = _ACTIVE_CLOCK_OF.first(db, {"id": account.active_ewallet_id}) if account.active_ewallet_id else None
    if ewallet is None:
        raise NotFound("the account has no active credit ewallet")
    return _locked_active_clock(db, ewallet.active_clock_id)
