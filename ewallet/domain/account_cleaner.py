"""The account cleaner: when a deletion order's date passes, the account is anonymised (its
email stays reserved, as a digest) and everything it owns is hidden. No ledger row is deleted;
contact lists, which are not ledger, are.

The anonymised name contains "@", which user names refuse, so nobody can register it first;
and each account is cleaned under a savepoint of its own, so one that cannot be cleaned is logged
and passed over without holding up the others."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as Db

from ewallet.domain import session_store
from ewallet.domain.accounts import holdings, settle_all
from ewallet.domain.kinds import CLOCK_KINDS, EWALLET_KINDS
from ewallet.domain.validation import name_key, reserved_email_key
from ewallet.storage.models import Account, ContactList, CreditClock, CreditEwallet, PasswordHistory

log = logging.getLogger(__name__)

UNUSABLE_HASH = "!"


def placeholder_of(account_id: int) -> str:
    """The name and email an anonymised account shows: "@" makes it unregistrable."""
    return f"@deleted-account-{account_id}"


def due_accounts(db: Db, now: datetime, after: int = 0, limit: int = 100) -> list[Account]:
    query = (
        select(Account)
        .where(
            Account.deletion_date.is_not(None),
            Account.deletion_date <= now,
            Account.anonymised.is_(False),
            Account.id > after,
        )
        .order_by(Account.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(db.scalars(query))


class StillHolding(Exception):
    """An account due for deletion that holds credits or minutes: it is not hidden away."""


def anonymise(db: Db, account: Account, now: datetime) -> None:
    settle_all(db, account.id, now)
    credits, minutes, running = holdings(db, account.id)
    if credits or minutes or running:
        # A deletion order is refused while anything is held and nothing is paid in after it,
        # so this is damage (the audit names it too): hiding the balance would lose it.
        raise StillHolding()
    placeholder = placeholder_of(account.id)
    account.email_key = reserved_email_key(account.email)
    account.email = placeholder
    account.name = placeholder
    account.name_key = name_key(placeholder)
    account.phone = None
    account.alias = None
    account.pass_hash = UNUSABLE_HASH
    account.anonymised = True
    account.write_date = now
    session_store.remove_from_all_stacks(db, account.id)
    db.execute(delete(PasswordHistory).where(PasswordHistory.account_id == account.id))
    account.active_contact_list_id = None
    db.flush()
    db.execute(delete(ContactList).where(ContactList.account_id == account.id))
    ewallets = select(CreditEwallet.id).where(CreditEwallet.account_id == account.id).scalar_subquery()
    clocks = select(CreditClock.id).where(CreditClock.ewallet_id.in_(ewallets)).scalar_subquery()
    db.execute(update(CreditEwallet).where(CreditEwallet.account_id == account.id).values(hidden=True))
    db.execute(update(CreditClock).where(CreditClock.ewallet_id.in_(ewallets)).values(hidden=True))
    for kind in EWALLET_KINDS:
        db.execute(update(kind.sheet).where(kind.sheet.ewallet_id.in_(ewallets)).values(hidden=True))
    for kind in CLOCK_KINDS:
        db.execute(update(kind.sheet).where(kind.sheet.clock_id.in_(clocks)).values(hidden=True))


def clean_accounts(db: Db, now: datetime) -> int:
    """Anonymise every account past its deletion date; returns how many were."""
    cleaned, after = 0, 0
    while accounts := due_accounts(db, now, after):
        for account in accounts:
            after = account.id
            savepoint = db.begin_nested()
            try:
                anonymise(db, account, now)
                db.flush()
            except (StillHolding, DBAPIError) as exc:
                savepoint.rollback()
                # Never the statement: its parameters are the account's personal data.
                log.warning("account %d is due for deletion but could not be cleaned (%s)", after, _reason(exc))
                continue
            savepoint.commit()
            cleaned += 1
    return cleaned


def _reason(exc: Exception) -> str:
    if isinstance(exc, StillHolding):
        return "it still holds credits, minutes or a running timer"
    return type(exc.orig).__name__ if isinstance(exc, DBAPIError) else type(exc).__name__
