"""Balance changes by conditional update: one UPDATE that checks and changes, so that two
concurrent debits can never both pass a check only one should (no read-then-write).

These are Core statements on the tables, built once: they do not refresh ORM objects already
loaded for those rows, so callers take the new balance from the return value."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BindParameter, Table, bindparam, update
from sqlalchemy.orm import Session as Db

from ewallet.domain.errors import InsufficientClock, InsufficientCredits, InvalidValue
from ewallet.storage.models import CreditClock, CreditEwallet
from ewallet.storage.statements import Statement
from ewallet.storage.types import UTCDateTime

#: Balances stay exactly representable as JSON numbers everywhere.
MAX_BALANCE = 2**53 - 1


def _change(table: Table, column: str, *, debit: bool) -> Statement:
    amount: BindParameter[int] = bindparam("amount")
    row_id: BindParameter[int] = bindparam("row_id")
    now = bindparam("now", type_=UTCDateTime())
    balance = table.c[column]
    guard = balance >= amount if debit else balance <= MAX_BALANCE - amount
    new = balance - amount if debit else balance + amount
    return Statement(
        update(table).where(table.c.id == row_id, guard).values({column: new, "write_date": now}).returning(balance)
    )


EWALLETS, CLOCKS = CreditEwallet.__table__, CreditClock.__table__
DEBIT_CREDITS = _change(EWALLETS, "credits", debit=True)  # type: ignore[arg-type]
CREDIT_CREDITS = _change(EWALLETS, "credits", debit=False)  # type: ignore[arg-type]
DEBIT_MINUTES = _change(CLOCKS, "hundredths", debit=True)  # type: ignore[arg-type]
CREDIT_MINUTES = _change(CLOCKS, "hundredths", debit=False)  # type: ignore[arg-type]


def _apply(db: Db, statement: Statement, row_id: int, amount: int, now: datetime) -> int | None:
    balance = statement.scalar(db, {"row_id": row_id, "amount": amount, "now": now})
    return None if balance is None else int(balance)


def debit_credits(db: Db, ewallet_id: int, credits: int, now: datetime) -> int:
    """Take credits; InsufficientCredits when the balance is short. Returns the new balance."""
    balance = _apply(db, DEBIT_CREDITS, ewallet_id, credits, now)
    if balance is None:
        raise InsufficientCredits()
    return balance


def credit_credits(db: Db, ewallet_id: int, credits: int, now: datetime) -> int:
    balance = _apply(db, CREDIT_CREDITS, ewallet_id, credits, now)
    if balance is None:
        raise InvalidValue("the receiving balance would exceed its limit")
    return balance


def debit_minutes(db: Db, clock_id: int, hundredths: int, now: datetime) -> int:
    balance = _apply(db, DEBIT_MINUTES, clock_id, hundredths, now)
    if balance is None:
        raise InsufficientClock()
    return balance


def credit_minutes(db: Db, clock_id: int, hundredths: int, now: datetime) -> int:
    balance = _apply(db, CREDIT_MINUTES, clock_id, hundredths, now)
    if balance is None:
        raise InvalidValue("the credit clock would exceed its limit")
    return balance
