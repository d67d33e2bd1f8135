"""The clock warning (`clock_low`): a subscriber asks to be told when a running timer has a
threshold of minutes left. The subscriber's process schedules the warning at the instant the
remaining minutes reach the threshold (the expected stop minus the threshold) and records it
then, once per run and threshold, under the clock lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from ewallet.domain import events, timer
from ewallet.storage.models import CreditClock, CreditEwallet, Event


@dataclass(frozen=True)
class RunningClock:
    """A running timer of the account: the clock, its run (the open time record) and the instant
    its balance runs out."""

    clock_id: int
    run_id: int
    expected_stop: datetime


def running_clocks(db: Db, account_id: int) -> list[RunningClock]:
    query = (
        select(CreditClock.id, CreditClock.timer_record_id, CreditClock.timer_expected_stop)
        .join(CreditEwallet, CreditEwallet.id == CreditClock.ewallet_id)
        .where(
            CreditEwallet.account_id == account_id,
            CreditClock.state == timer.ACTIVE,
            CreditClock.timer_expected_stop.is_not(None),
        )
        .order_by(CreditClock.id)
    )
    return [
        RunningClock(int(c), int(r), stop) for c, r, stop in db.execute(query) if r is not None and stop is not None
    ]


def clock_low(db: Db, clock_id: int, run_id: int, threshold: int, now: datetime) -> datetime | None:
    """Record the clock warning of this run and threshold (hundredths of a minute) if the timer
    still runs that run and has `threshold` or less left, once. Returns when to look again if
    it is not yet low (the instant moved, say, because a payment arrived); None when done."""
    clock = db.get(CreditClock, clock_id)
    if clock is None or clock.state != timer.ACTIVE or clock.timer_record_id != run_id:
        return None
    clock = timer.lock_running(db, clock_id, now)
    if clock is None or clock.timer_record_id != run_id or clock.timer_expected_stop is None:
        return None
    remaining = timer.remaining_micros(clock, now)
    due = clock.timer_expected_stop - timedelta(microseconds=threshold * timer.MICROS_PER_HUNDREDTH)
    if remaining > threshold * timer.MICROS_PER_HUNDREDTH:
        return due
    once = f"clock_low:{run_id}:{threshold}"
    if db.scalar(select(Event.id).where(Event.once_key == once)) is None:
        data = {
            "clock": clock.id,
            # What view clock_timer shows at this instant (a stop's rounding and carry).
            "remaining_hundredths": timer.live(clock, now).remaining,
            "expected_stop": clock.timer_expected_stop.isoformat(),
            "threshold_hundredths": threshold,
        }
        events.record(db, events.clock_owner(db, clock), events.CLOCK_LOW, data, now, ref_id=run_id, once_key=once)
    return None
