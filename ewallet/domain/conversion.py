"""Converting credits to credit-clock minutes and back: minutes = credits * rate; the way
back must give whole credits (nothing is rounded). No transfer records are written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session as Db

from ewallet.domain.balances import MAX_BALANCE
from ewallet.domain.errors import InsufficientClock, InsufficientCredits, InvalidValue, TimerState
from ewallet.domain.kinds import CONVERSION
from ewallet.domain.locks import held_chain
from ewallet.domain.timer import INACTIVE, reschedule, settle
from ewallet.storage.models import ConversionRecord, CreditClock

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
    db: Db, account_id: int, credits: int, rate: Decimal, notes: str | None, now: datetime
) -> Conversion:
    """Allowed while the timer runs: the added minutes extend the run."""
    ewallet, clock = held_chain(db, account_id)
    settle(db, clock, now)
    hundredths = credits * rate_hundredths(rate)
    if ewallet.credits < credits:
        raise InsufficientCredits()
    if clock.hundredths + hundredths > MAX_BALANCE:
        raise InvalidValue("the credit clock would exceed its limit")
    ewallet.credits -= credits
    ewallet.write_date = now
    clock.hundredths += hundredths
    clock.loaded_rate = rate if clock.loaded_rate is None else max(clock.loaded_rate, rate)
    clock.write_date = now
    reschedule(clock)
    record = _record(db, clock, CREDITS2CLOCK, hundredths, credits, rate, notes, now)
    return Conversion(record, ewallet.credits, clock.hundredths)


def return_rate(clock: CreditClock, rate: Decimal) -> Decimal:
    """The rate minutes go back at: the current one, or the highest the clock was ever loaded
    at when that is higher, so a rate change never pays back more credits than were paid."""
    return rate if clock.loaded_rate is None else max(clock.loaded_rate, rate)


def clock_to_credits(
    db: Db, account_id: int, hundredths: int, rate: Decimal, notes: str | None, now: datetime
) -> Conversion:
    ewallet, clock = held_chain(db, account_id)
    settle(db, clock, now)
    if clock.state != INACTIVE:
        raise TimerState("the credit clock's timer is running")
    rate = return_rate(clock, rate)
    per_credit = rate_hundredths(rate)
    if hundredths % per_credit:
        raise InvalidValue(
            f"minutes must convert to a whole number of credits at this clock's rate of {rate} minutes per credit"
        )
    credits = hundredths // per_credit
    if clock.hundredths < hundredths:
        raise InsufficientClock()
    if ewallet.credits + credits > MAX_BALANCE:
        raise InvalidValue("the receiving balance would exceed its limit")
    clock.hundredths -= hundredths
    clock.write_date = now
    ewallet.credits += credits
    ewallet.write_date = now
    record = _record(db, clock, CLOCK2CREDITS, hundredths, credits, rate, notes, now)
    return Conversion(record, ewallet.credits, clock.hundredths)
