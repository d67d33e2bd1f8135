"""Plain factories for the domain tier: accounts with their default tree, credits, clock minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session as Db

from ewallet.domain import accounts, conversion, ledger, resources
from ewallet.domain.password_work import HashedPassword
from ewallet.storage.models import Account, CreditClock, CreditEwallet
from tests.support import PASSWORD

SYSTEM = "ewallet-system"
START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
RATE = Decimal("1.00")
#: No domain rule reads the hash of an account it creates: these tests never log in.
_HASH = HashedPassword("$argon2id$v=19$m=64,t=1,p=1$not-checked")


def new_account(db: Db, name: str, now: datetime = START) -> Account:
    spec = accounts.NewAccount(name=name, password=PASSWORD, email=f"{name}@example.com")
    return accounts.create_account(db, spec, _HASH, now, SYSTEM)


def supply(db: Db, account: Account, credits: int, now: datetime = START) -> ledger.Movement:
    return ledger.supply(db, account.id, credits, ledger.InvoiceTerms("RON", Decimal("0.00"), None), SYSTEM, now)


def load_clock(db: Db, account: Account, minutes: int, now: datetime = START) -> CreditClock:
    """The active clock holding `minutes` more, bought with credits at one minute a credit."""
    supply(db, account, minutes, now)
    conversion.credits_to_clock(db, account.id, minutes, RATE, None, now)
    return clock_of(db, account)


def ewallet_of(db: Db, account: Account) -> CreditEwallet:
    """The active ewallet as stored: balances change by statements the session does not track."""
    db.flush()
    ewallet = resources.active_ewallet(db, account)
    db.refresh(ewallet)
    return ewallet


def clock_of(db: Db, account: Account) -> CreditClock:
    db.flush()
    clock = resources.active_clock(db, account)
    db.refresh(clock)
    return clock


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)
