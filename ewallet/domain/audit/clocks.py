"""Clocks and their time records: every clock's minutes are
what it received less what it gave back less what its time records billed; each closed time
record's `time_spent` was deducted exactly once (the time records of a clock bill what the clock
counts as billed: a record deleted, or its minutes handed back, shows); no balance is negative;
a time record sits in a time sheet of its clock; a running timer writes to an open time record of
its own clock and every open record is a running timer's; the clock's loaded rate is the highest
its conversions show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session as Db

from ewallet.domain.audit.conversions import ConversionBooks
from ewallet.domain.audit.report import AuditReport, minutes
from ewallet.domain.audit.tables import CLOCKS, TIME_SHEETS, TIMES, rows
from ewallet.domain.timer import ACTIVE, INACTIVE, PENDING


@dataclass(frozen=True)
class Billed:
    spent: int
    records: int


def _billed(db: Db) -> dict[int, Billed]:
    t = TIMES.c
    query = select(t.clock_id, func.sum(t.spent_hundredths), func.count()).group_by(t.clock_id)
    return {clock: Billed(int(spent or 0), int(count)) for clock, spent, count in db.execute(query)}


def _time_records(db: Db, report: AuditReport) -> None:
    """Time records in the wrong sheet, open without a timer running on them, or billing a
    negative time or a time while still open (one query returning only those)."""
    t, s, c = TIMES.c, TIME_SHEETS.c, CLOCKS.c
    is_open = t.time_stop.is_(None)
    not_the_timer = or_(c.state == INACTIVE, c.timer_record_id.is_(None), c.timer_record_id != t.id)
    query = (
        select(t.id, t.clock_id, t.sheet_id, s.clock_id, t.spent_hundredths, and_(is_open, not_the_timer))
        .select_from(TIMES.outerjoin(TIME_SHEETS, s.id == t.sheet_id).outerjoin(CLOCKS, c.id == t.clock_id))
        .where(
            or_(
                s.clock_id != t.clock_id,
                t.spent_hundredths < 0,
                and_(is_open, c.id.is_not(None), or_(not_the_timer, t.spent_hundredths != 0)),
            )
        )
        .order_by(t.id)
    )
    for record, clock, sheet, sheet_clock, spent, orphan in rows(db, query):
        if sheet_clock is not None and sheet_clock != clock:
            report.add(f"time record {record}: in time sheet {sheet} of clock {sheet_clock}, not of clock {clock}")
        elif orphan:
            report.add(f"time record {record}: open, but clock {clock} runs no timer on it")
        else:
            report.add(f"time record {record}: time_spent {minutes(spent)} on a run that cannot have billed it")


def _timer(row: Any) -> str | None:
    clock, (state, timer_record, found, record_clock, record_open) = row[0], row[4:]
    if state not in (INACTIVE, ACTIVE, PENDING):
        return f"clock {clock}: unknown timer state {state!r}"
    if state == INACTIVE:
        return None if timer_record is None else f"clock {clock}: inactive, yet it names time record {timer_record}"
    if timer_record is None:
        return f"clock {clock}: its timer is {state} without a time record"
    if found is None:
        return f"clock {clock}: its timer names time record {timer_record}, which does not exist"
    if record_clock != clock:
        return f"clock {clock}: its timer writes to time record {timer_record} of clock {record_clock}"
    return None if record_open else f"clock {clock}: its timer is {state}, but time record {timer_record} is closed"


def check_clocks(db: Db, conversions: ConversionBooks, report: AuditReport) -> None:
    billed = _billed(db)
    report.time_records = sum(b.records for b in billed.values())
    report.billed = sum(b.spent for b in billed.values())
    c, t = CLOCKS.c, TIMES.c
    query = (
        select(c.id, c.hundredths, c.billed_hundredths, c.loaded_rate, c.state, c.timer_record_id, t.id,
               t.clock_id, t.time_stop.is_(None))
        .select_from(CLOCKS.outerjoin(TIMES, t.id == c.timer_record_id))
        .order_by(c.id)
    )  # fmt: skip
    for row in rows(db, query):
        clock, hundredths, counted, loaded_rate = row[:4]
        report.clocks += 1
        spent = billed.get(clock, Billed(0, 0)).spent
        expected = conversions.minutes_in[clock] - conversions.minutes_back[clock] - spent
        if hundredths < 0:
            report.add(f"clock {clock} holds a negative balance ({minutes(hundredths)} minutes)")
        if hundredths != expected:
            report.add(f"clock {clock} holds {hundredths} hundredths of a minute; its records say {expected}")
        if counted != spent:
            report.add(
                f"clock {clock}: its time records bill {minutes(spent)} minutes in all, "
                f"but it counts {minutes(counted)} billed"
            )
        highest = conversions.loaded.get(clock)
        if loaded_rate != highest:
            report.add(f"clock {clock}: loaded rate {loaded_rate}, but its credits2clock records reach {highest}")
        problem = _timer(row)
        if problem is not None:
            report.add(problem)
    _time_records(db, report)
