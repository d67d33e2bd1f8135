"""Balance changes by conditional update: one UPDATE that checks and changes, so that two
concurrent debits can never both pass a check only one should (no read-then-write)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session as Db

from ewallet.domain.errors import InsufficientClock, InsufficientCredits, InvalidValue
from ewallet.storage.models import CreditClock, CreditEwallet

#: Balances stay exactly representable as JSON numbers everywhere.
MAX_BALANCE = 2**53 - 1


def debit_credits(db: Db, ewallet_id: int, credits: int, now: datetime) -> int:
    """Take credits; InsufficientCredits when the balance is short. Returns the new balance."""
    row = db.execute(
        update(CreditEwallet)
        .where(CreditEwallet.id == ewallet_id, CreditEwallet.credits >= credits)
        .values(credits=CreditEwallet.credits - credits, write_date=now)
        .returning(CreditEwallet.credits)
    ).first()
    if row is None:
        raise InsufficientCredits()
    return int(row[0])


def credit_credits(db: Db, ewallet_id: int, credits: int, now: datetime) -> int:
    row = db.execute(
        update(CreditEwallet)
        .where(CreditEwallet.id == ewallet_id, CreditEwallet.credits <= MAX_BALANCE - credits)
        .values(credits=CreditEwallet.credits + credits, write_date=now)
        .returning(CreditEwallet.credits)
    ).first()
    if row is None:
        raise InvalidValue("the receiving balance would exceed its limit")
    return int(row[0])


def debit_minutes(db: Db, clock_id: int, hundredths: int, now: datetime) -> int:
    row = db.execute(
        update(CreditClock)
        .where(CreditClock.id == clock_id, CreditClock.hundredths >= hundredths)
        .values(hundredths=CreditClock.hundredths - hundredths, write_date=now)
        .returning(CreditClock.hundredths)
    ).first()
    if row is None:
        raise InsufficientClock()
    return int(row[0])


def credit_minutes(db: Db, clock_id: int, hundredths: int, now: datetime) -> int:
    row = db.execute(
        update(CreditClock)
        .where(CreditClock.id == clock_id, CreditClock.hundredths <= MAX_BALANCE - hundredths)
        .values(hundredths=CreditClock.hundredths + hundredths, write_date=now)
        .returning(CreditClock.hundredths)
    ).first()
    if row is None:
        raise InvalidValue("the credit clock would exceed its limit")
    return int(row[0])
