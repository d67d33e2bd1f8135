"""The credit clock timer: inactive -> start -> active -> pause -> pending -> resume ->
active -> stop -> inactive (stop also from pending). State and UTC instants are written at every
transition, so any process can settle or stop a timer another one started. Only active time is
billed: minutes = active seconds / 60, rounded half-up to 0.01, capped at the balance; what the
rounding left over is carried on the clock into its next bill, so that short runs are not
free and the total billed follows the total active time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session as Db

from ewallet.domain import events
from ewallet.domain.errors import InsufficientClock, TimerState
from ewallet.domain.kinds import TIME
from ewallet.domain.locks import lock_clock
from ewallet.domain.units import round_half_up_hundredths
from ewallet.storage.models import CreditClock, TimeRecord
from ewallet.storage.statements import Statement
from ewallet.storage.types import UTCDateTime

INACTIVE, ACTIVE, PENDING = "inactive", "active", "pending"
#: One hundredth of a minute is 0.6 s.
MICROS_PER_HUNDREDTH = 600_000


def micros(delta: timedelta) -> int:
    """A duration in microseconds; a negative one (the wall clock stepped back) counts as 0."""
    return max(0, (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


def hundredths_of_micros(value: int) -> int:
    return round_half_up_hundredths(Decimal(value) / Decimal(60_000_000))


@dataclass(frozen=True)
class Stopped:
    record: TimeRecord
    spent: int
    pending: int


def _exhaustion(clock: CreditClock) -> datetime | None:
    """The instant billable time (active time plus the carry) reaches the balance, while the
    timer is active."""
    if clock.state != ACTIVE or clock.timer_segment_start is None:
        return None
    remaining = clock.hundredths * MICROS_PER_HUNDREDTH - clock.timer_active_us - clock.timer_carry_us
    return clock.timer_segment_start + timedelta(microseconds=max(remaining, 0))


def remaining_micros(clock: CreditClock, now: datetime) -> int:
    """What an active timer has left at `now`, exactly (before rounding), never below 0."""
    ends = _exhaustion(clock)
    return 0 if ends is None else micros(ends - now)


def reschedule(clock: CreditClock) -> None:
    """Keep the stored expected stop (what the sweep looks up by index) in step with the clock."""
    clock.timer_expected_stop = _exhaustion(clock)


def settle(db: Db, clock: CreditClock, now: datetime) -> Stopped | None:
    """Stop the timer at the instant its balance ran out, if that instant has passed."""
    ends = _exhaustion(clock)
    if ends is None or ends > now:
        return None
    return _finish(db, clock, max(ends, clock.timer_segment_start or ends), exhausted=True)


def settle_record(db: Db, record: TimeRecord, now: datetime) -> None:
    """Close an open time record whose timer ran out: reading the record reads its clock."""
    if record.time_stop is None:
        settle_clock(db, record.clock_id, now)


def settle_clock(db: Db, clock_id: int, now: datetime) -> None:
    """Settle the clock's timer if it runs (locks the clock only then)."""
    clock = db.get(CreditClock, clock_id)
    if clock is not None and clock.state == ACTIVE:
        settle(db, lock_clock(db, clock_id), now)


def lock_running(db: Db, clock_id: int, now: datetime) -> CreditClock | None:
    """The clock locked and settled, if its timer is still active then."""
    clock = lock_clock(db, clock_id)
    settle(db, clock, now)
    return clock if clock.state == ACTIVE else None


def start(db: Db, clock: CreditClock, now: datetime) -> TimeRecord:
    settle(db, clock, now)
    if clock.state != INACTIVE:
        raise TimerState("the timer is already running")
    if clock.hundredths <= 0:
        raise InsufficientClock("the credit clock holds no minutes")
    record = TimeRecord(
        sheet_id=clock.active_time_sheet_id,
        clock_id=clock.id,
        reference=TIME.record_reference,
        time_start=now,
        time_stop=None,
        spent_hundredths=0,
        pending_hundredths=0,
        pending_count=0,
        create_date=now,
        write_date=now,
    )
    db.add(record)
    db.flush()
    _touch_sheet(db, record.sheet_id, now)
    clock.state = ACTIVE
    clock.timer_record_id = record.id
    clock.timer_started = now
    clock.timer_segment_start = now
    clock.timer_paused_at = None
    clock.timer_active_us = 0
    clock.timer_pending_us = 0
    clock.timer_pending_count = 0
    clock.write_date = now
    reschedule(clock)
    db.flush()
    events.timer_changed(db, clock, now)
    return record


def pause(db: Db, clock: CreditClock, now: datetime) -> None:
    settle(db, clock, now)
    if clock.state != ACTIVE or clock.timer_segment_start is None:
        raise TimerState("only an active timer can be paused")
    clock.timer_active_us += micros(now - clock.timer_segment_start)
    clock.timer_paused_at = now
    clock.timer_pending_count += 1
    clock.state = PENDING
    clock.write_date = now
    reschedule(clock)
    db.flush()
    events.timer_changed(db, clock, now)


def resume(db: Db, clock: CreditClock, now: datetime) -> datetime:
    """Returns the instant the pause began."""
    settle(db, clock, now)
    if clock.state != PENDING or clock.timer_paused_at is None:
        raise TimerState("only a paused timer can be resumed")
    paused_at = clock.timer_paused_at
    clock.timer_pending_us += micros(now - paused_at)
    clock.timer_segment_start = now
    clock.timer_paused_at = None
    clock.state = ACTIVE
    clock.write_date = now
    reschedule(clock)
    db.flush()
    events.timer_changed(db, clock, now)
    return paused_at


def stop(db: Db, clock: CreditClock, now: datetime) -> Stopped:
    settled = settle(db, clock, now)
    if settled is not None or clock.state == INACTIVE:
        raise TimerState("the timer is not running")
    stopped = _finish(db, clock, now, exhausted=False)
    events.timer_changed(db, clock, now)
    return stopped


def _run_until(clock: CreditClock, at: datetime) -> tuple[int, int]:
    """The run's active and paused microseconds up to `at`, the ongoing segment or pause
    included."""
    active_us, pending_us = clock.timer_active_us, clock.timer_pending_us
    if clock.state == ACTIVE and clock.timer_segment_start is not None:
        active_us += micros(at - clock.timer_segment_start)
    elif clock.state == PENDING and clock.timer_paused_at is not None:
        pending_us += micros(at - clock.timer_paused_at)
    return active_us, pending_us


def _bill(clock: CreditClock, active_us: int) -> int:
    """The hundredths a stop bills for that much active time: with the carry, rounded half-up,
    capped at the balance."""
    return min(hundredths_of_micros(max(active_us + clock.timer_carry_us, 0)), clock.hundredths)


def _finish(db: Db, clock: CreditClock, at: datetime, *, exhausted: bool) -> Stopped:
    active_us, pending_us = _run_until(clock, at)
    exact = active_us + clock.timer_carry_us
    spent = clock.hundredths if exhausted else _bill(clock, active_us)
    # Exhausting the balance settles the account with the clock: nothing is carried past it.
    clock.timer_carry_us = 0 if spent == clock.hundredths else exact - spent * MICROS_PER_HUNDREDTH
    pending = hundredths_of_micros(pending_us)
    record = db.get(TimeRecord, clock.timer_record_id)
    assert record is not None, "a running timer always has its time record"
    record.time_stop = at
    record.spent_hundredths = spent
    record.pending_hundredths = pending
    record.pending_count = clock.timer_pending_count
    record.write_date = at
    _touch_sheet(db, record.sheet_id, at)
    clock.hundredths -= spent
    clock.billed_hundredths += spent
    clock.state = INACTIVE
    clock.timer_record_id = None
    clock.timer_segment_start = None
    clock.timer_paused_at = None
    clock.timer_expected_stop = None
    clock.write_date = at
    db.flush()
    if exhausted:
        data = {"clock": clock.id, "time_record": record.id}
        events.record(db, events.clock_owner(db, clock), events.TIMER_STOPPED, data, at, ref_id=record.id)
    return Stopped(record=record, spent=spent, pending=pending)


def pending_hundredths(clock: CreditClock) -> int:
    return hundredths_of_micros(clock.timer_pending_us)


@dataclass(frozen=True)
class LiveClock:
    """A clock's timer as it stands at one instant (view clock_timer), in hundredths of a minute:
    `hundredths` the settled balance; `remaining` what a stop at that instant would leave (the
    same measure, carry, rounding and cap as a stop); `elapsed` and `pending` the run's active
    and paused time so far (the ongoing segment or pause included; 0 when inactive); `started`
    the run's start; `expected_stop` while active the stored instant the balance runs out."""

    clock_id: int
    state: str
    hundredths: int
    remaining: int
    elapsed: int
    pending: int
    started: datetime | None
    expected_stop: datetime | None


def live(clock: CreditClock, at: datetime) -> LiveClock:
    """The clock at `at`, which must already be settled at `at` (see `live_clock`). Reads only."""
    if clock.state == INACTIVE:
        return LiveClock(clock.id, INACTIVE, clock.hundredths, clock.hundredths, 0, 0, None, None)
    active_us, pending_us = _run_until(clock, at)
    return LiveClock(
        clock_id=clock.id,
        state=clock.state,
        hundredths=clock.hundredths,
        remaining=clock.hundredths - _bill(clock, active_us),
        elapsed=hundredths_of_micros(active_us),
        pending=hundredths_of_micros(pending_us),
        started=clock.timer_started,
        expected_stop=clock.timer_expected_stop if clock.state == ACTIVE else None,
    )


def live_clock(db: Db, clock: CreditClock, now: datetime) -> LiveClock:
    """The clock now, a timer that ran out settled first (which locks the clock only then)."""
    settle_clock(db, clock.id, now)
    return live(clock, now)


_TOUCH_SHEET = Statement(
    update(TIME.sheet.__table__)
    .where(TIME.sheet.__table__.c.id == bindparam("id"))
    .values(write_date=bindparam("now", type_=UTCDateTime()))
)


def _touch_sheet(db: Db, sheet_id: int, now: datetime) -> None:
    _TOUCH_SHEET.execute(db, {"id": sheet_id, "now": now})


def sweep(db: Db, now: datetime, batch: int = 500) -> int:
    """Settle every active timer whose balance ran out, found by their expected stop (claimed
    with SKIP LOCKED, so two processes' sweeps share the work), however many there are."""
    settled, after = 0, 0
    while True:
        clocks = db.scalars(
            select(CreditClock)
            .where(
                CreditClock.state == ACTIVE,
                CreditClock.timer_expected_stop <= now,
                CreditClock.id > after,
            )
            .order_by(CreditClock.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        ).all()
        settled += sum(1 for clock in clocks if settle(db, clock, now) is not None)
        if len(clocks) < batch:
            return settled
        after = clocks[-1].id
