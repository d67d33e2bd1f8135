"""Converting credits to credit-clock minutes and back (§7): minutes = credits * rate; the way
back must give whole credits (nothing is rounded). No transfer records are written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session as Db

from ewallet.domain import balances
from ewallet.domain.errors import InvalidValue, TimerState
from ewallet.domain.kinds import CONVERSION
from ewallet.domain.resources import active_clock, active_ewallet
from ewallet.domain.timer import INACTIVE, lock_clock, settle
from ewallet.storage.models import Account, ConversionRecord, CreditClock

CREDITS2CLOCK, CLOCK2CREDITS = "credits2clock", "clock2credits"


@dataclass(frozen=True)
class Conversion:
    record: ConversionRecord
    ewallet_credits: int
    clock_hundredths: int


def rate_hundredths(rate: Decimal) -> int:
    """Minutes per credit as integer hundredths (the rate has at most two decimals)."""
    return int(rate * 100)


def _record(
    db: Db,
    clock: CreditClock,
    kind: str,
    hundredths: int,
    credits: int,
    rate: Decimal,
    notes: str | None,
    now: datetime,
) -> ConversionRecord:
    record = ConversionRecord(
        sheet_id=clock.active_conversion_sheet_id,
        clock_id=clock.id,
        ewallet_id=clock.ewallet_id,
        reference=CONVERSION.record_reference,
        conversion_type=kind,
        hundredths=hundredths,
        credits=credits,
        rate=rate,
        notes=notes,
        create_date=now,
        write_date=now,
    )
    db.add(record)
    sheet = db.get(CONVERSION.sheet, clock.active_conversion_sheet_id)
    if sheet is not None:
        sheet.write_date = now
    db.flush()
    return record


def credits_to_clock(
    db: Db, account: Account, credits: int, rate: Decimal, notes: str | None, now: datetime
) -> Conversion:
    """Allowed while the timer runs: the added minutes extend the run."""
    ewallet = active_ewallet(db, account)
    clock = lock_clock(db, active_clock(db, account).id)
    settle(db, clock, now)
    hundredths = credits * rate_hundredths(rate)
    ewallet_credits = balances.debit_credits(db, ewallet.id, credits, now)
    clock_hundredths = balances.credit_minutes(db, clock.id, hundredths, now)
    record = _record(db, clock, CREDITS2CLOCK, hundredths, credits, rate, notes, now)
    return Conversion(record, ewallet_credits, clock_hundredths)


def clock_to_credits(
    db: Db, account: Account, hundredths: int, rate: Decimal, notes: str | None, now: datetime
) -> Conversion:
    ewallet = active_ewallet(db, account)
    clock = lock_clock(db, active_clock(db, account).id)
    settle(db, clock, now)
    if clock.state != INACTIVE:
        raise TimerState("the credit clock's timer is running")
    per_credit = rate_hundredths(rate)
    if hundredths % per_credit:
        raise InvalidValue("minutes must convert to a whole number of credits at the current rate")
    credits = hundredths // per_credit
    clock_hundredths = balances.debit_minutes(db, clock.id, hundredths, now)
    ewallet_credits = balances.credit_credits(db, ewallet.id, credits, now)
    record = _record(db, clock, CLOCK2CREDITS, hundredths, credits, rate, notes, now)
    return Conversion(record, ewallet_credits, clock_hundredths)
