"""Conversion records in one pass, in id order: the arithmetic holds at the
rate each was made at; each sits in a conversion sheet of the clock it names, and that clock
belongs to the ewallet it names; and a rate change mints nothing: a `clock2credits` never uses a
rate below one its clock was loaded at before it, and per clock the credits returned never
exceed the credits paid in (the server converts back at the highest rate the clock was loaded
at, `conversion.return_rate`).

It also sums, for the books, the credits each ewallet converted and got back and the minutes
each clock received and gave back, and keeps the highest rate each clock was loaded at."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from ewallet.domain.audit.owners import Owners, missing
from ewallet.domain.audit.report import AuditReport
from ewallet.domain.audit.tables import CLOCKS, CONVERSION_SHEETS, CONVERSIONS, EWALLETS, rows
from ewallet.domain.conversion import CLOCK2CREDITS, CREDITS2CLOCK, rate_hundredths


def _sums() -> defaultdict[int, int]:
    return defaultdict(int)


@dataclass
class ConversionBooks:
    #: ewallet id -> credits converted to clocks, and credits converted back
    credits_out: defaultdict[int, int] = field(default_factory=_sums)
    credits_back: defaultdict[int, int] = field(default_factory=_sums)
    #: clock id -> hundredths received, and hundredths given back
    minutes_in: defaultdict[int, int] = field(default_factory=_sums)
    minutes_back: defaultdict[int, int] = field(default_factory=_sums)
    #: clock id -> the highest rate it was loaded at
    loaded: dict[int, Decimal] = field(default_factory=dict)
    #: clock id -> credits paid in, and credits returned, so far in id order
    paid: defaultdict[int, int] = field(default_factory=_sums)
    returned: defaultdict[int, int] = field(default_factory=_sums)


def _query() -> Any:
    r = CONVERSIONS.c
    return select(
        r.id, r.conversion_type, r.hundredths, r.credits, r.rate, r.clock_id, r.ewallet_id, r.sheet_id
    ).order_by(r.id)


def _shape(row: Any, owners: Owners) -> str | None:
    """The record on its own: what it names exists, amounts, rate, arithmetic, where it sits."""
    record, _, hundredths, credits, rate, clock, ewallet, sheet = row
    for column, target, value, known in (
        ("sheet_id", CONVERSION_SHEETS, sheet, owners.conversion_sheets),
        ("clock_id", CLOCKS, clock, owners.clocks),
        ("ewallet_id", EWALLETS, ewallet, owners.ewallets),
    ):
        if value not in known:
            return missing(CONVERSIONS, record, column, target, value)
    if hundredths <= 0 or credits <= 0 or rate is None or rate <= 0:
        return f"conversion record {record}: minutes, credits and rate must be positive"
    if hundredths != credits * rate_hundredths(Decimal(rate)):
        return f"conversion record {record}: minutes and credits disagree with its rate"
    sheet_clock, clock_ewallet = owners.conversion_sheets[sheet], owners.clocks[clock]
    if sheet_clock != clock:
        return f"conversion record {record}: in conversion sheet {sheet} of clock {sheet_clock}, not of clock {clock}"
    if clock_ewallet != ewallet:
        return (
            f"conversion record {record}: names ewallet {ewallet}, but clock {clock} belongs to ewallet {clock_ewallet}"
        )
    return None


def _mints(books: ConversionBooks, row: Any, report: AuditReport) -> None:
    """Follow the clock's history: loads raise its rate; a way back below it, or returning more
    credits than were paid in, mints credits."""
    record, kind, _, credits, rate, clock = row[:6]
    if kind == CREDITS2CLOCK:
        books.loaded[clock] = max(books.loaded.get(clock, rate), rate)
        books.paid[clock] += credits
        return
    loaded = books.loaded.get(clock)
    if loaded is not None and rate < loaded:
        report.add(
            f"conversion record {record}: clock2credits at rate {rate}, "
            f"below the rate {loaded} clock {clock} was loaded at before it"
        )
    was_within = books.returned[clock] <= books.paid[clock]
    books.returned[clock] += credits
    if was_within and books.returned[clock] > books.paid[clock]:
        report.add(
            f"clock {clock}: conversion record {record} brings the credits returned to "
            f"{books.returned[clock]}, more than the {books.paid[clock]} paid in"
        )


def check_conversions(db: Db, owners: Owners, report: AuditReport) -> ConversionBooks:
    books = ConversionBooks()
    for row in rows(db, _query()):
        record, kind, hundredths, credits, _, clock, ewallet = row[:7]
        report.conversions += 1
        if kind not in (CREDITS2CLOCK, CLOCK2CREDITS):
            report.add(f"conversion record {record}: unknown conversion type {kind!r}")
            continue
        problem = _shape(row, owners)
        if problem is not None:
            report.add(problem)
        if kind == CREDITS2CLOCK:
            books.credits_out[ewallet] += credits
            books.minutes_in[clock] += hundredths
        else:
            books.credits_back[ewallet] += credits
            books.minutes_back[clock] += hundredths
        if row[4] is not None:
            _mints(books, row, report)
    return books
