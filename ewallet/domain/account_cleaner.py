"""The account cleaner: when a deletion order's date passes, the account is anonymised (its
email stays reserved, as a digest) and everything it owns is hidden. No ledger row is deleted;
contact lists, which are not ledger, are."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session as Db

from ewallet.domain import sessions as session_store
from ewallet.domain.kinds import CLOCK_KINDS, EWALLET_KINDS
from ewallet.domain.validation import reserved_email_key
from ewallet.storage.models import Account, ContactList, CreditClock, CreditEwallet, PasswordHistory

UNUSABLE_HASH = "!"


def due_accounts(db: Db, now: datetime, limit: int = 100) -> list[Account]:
    query = (
        select(Account)
        .where(Account.deletion_date.is_not(None), Account.deletion_date <= now, Account.anonymised.is_(False))
        .order_by(Account.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(db.scalars(query))


def anonymise(db: Db, account: Account, now: datetime) -> None:
    placeholder = f"deleted-account-{account.id}"
    account.email_key = reserved_email_key(account.email)
    account.email = placeholder
    account.name = placeholder
    account.name_key = placeholder
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
    accounts = due_accounts(db, now)
    for account in accounts:
        anonymise(db, account, now)
    return len(accounts)
