"""The credit clock timer: its states, what it bills, and the rounding carried between bills."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session as Db

from ewallet.domain import timer
from ewallet.storage.models import CreditClock
from tests.answers import refused
from tests.domain.world import START, clock_of, load_clock, minutes, new_account


def loaded(db: Db, count: int = 10) -> CreditClock:
    return load_clock(db, new_account(db, "timekeeper"), count)


class TestStates:
    def test_start_pause_resume_stop_bills_only_active_time(self, db: Db) -> None:
        clock = loaded(db)
        record = timer.start(db, clock, START)
        timer.pause(db, clock, START + minutes(2))
        assert timer.resume(db, clock, START + minutes(5)) == START + minutes(2)
        stopped = timer.stop(db, clock, START + minutes(6))
        assert (stopped.spent, stopped.pending) == (300, 300)
        assert (record.time_stop, record.spent_hundredths, record.pending_count) == (START + minutes(6), 300, 1)
        assert (clock.state, clock.hundredths, clock.billed_hundredths) == (timer.INACTIVE, 700, 300)

    def test_stop_from_pending_bills_the_time_before_the_pause(self, db: Db) -> None:
        clock = loaded(db)
        timer.start(db, clock, START)
        timer.pause(db, clock, START + minutes(1))
        assert timer.stop(db, clock, START + minutes(4)).spent == 100

    def test_refuses_transitions_the_state_does_not_allow(self, db: Db) -> None:
        clock = loaded(db)
        refused(lambda: timer.pause(db, clock, START), "timer_state")
        refused(lambda: timer.resume(db, clock, START), "timer_state")
        refused(lambda: timer.stop(db, clock, START), "timer_state")
        timer.start(db, clock, START)
        refused(lambda: timer.start(db, clock, START), "timer_state")
        refused(lambda: timer.resume(db, clock, START), "timer_state")

    def test_refuses_to_start_an_empty_clock(self, db: Db) -> None:
        clock = clock_of(db, new_account(db, "empty"))
        refused(lambda: timer.start(db, clock, START), "insufficient_clock")


class TestBilling:
    def test_a_run_past_the_balance_stops_when_the_balance_ran_out(self, db: Db) -> None:
        clock = loaded(db, 3)
        record = timer.start(db, clock, START)
        timer.settle(db, clock, START + minutes(10))
        assert (clock.state, clock.hundredths) == (timer.INACTIVE, 0)
        assert (record.time_stop, record.spent_hundredths) == (START + minutes(3), 300)

    def test_rounding_left_over_is_carried_into_the_next_bill(self, db: Db) -> None:
        # A hundredth of a minute is 0.6 s: a 0.4 s run rounds up to one, and the 0.2 s it
        # overbilled is owed back, so a second 0.4 s run bills nothing (0.8 s in all: one).
        clock = loaded(db)
        short = timedelta(milliseconds=400)
        timer.start(db, clock, START)
        assert timer.stop(db, clock, START + short).spent == 1
        assert clock.timer_carry_us == 400_000 - timer.MICROS_PER_HUNDREDTH
        later = START + minutes(1)
        timer.start(db, clock, later)
        assert timer.stop(db, clock, later + short).spent == 0
        assert clock.billed_hundredths == 1

    def test_exhausting_the_balance_carries_nothing(self, db: Db) -> None:
        clock = loaded(db, 1)
        timer.start(db, clock, START)
        timer.settle(db, clock, START + minutes(2))
        assert (clock.hundredths, clock.timer_carry_us) == (0, 0)


def stop_leaves(db: Db, clock: CreditClock, at: datetime) -> int:
    """What a stop at `at` would leave on the clock, learnt by stopping in a savepoint rolled back."""
    with db.begin_nested() as nested:
        timer.stop(db, clock, at)
        left = clock.hundredths
        nested.rollback()
    db.refresh(clock)
    return left


class TestLiveClock:
    def test_an_inactive_clock_shows_its_balance_and_no_run(self, db: Db) -> None:
        clock = loaded(db, 7)
        assert timer.live_clock(db, clock, START) == timer.LiveClock(
            clock.id, timer.INACTIVE, 700, 700, 0, 0, None, None
        )

    def test_a_running_timer_counts_its_active_time_down_from_the_balance(self, db: Db) -> None:
        clock = loaded(db, 10)
        timer.start(db, clock, START)
        live = timer.live_clock(db, clock, START + timedelta(minutes=2, seconds=30))
        assert (live.state, live.hundredths, live.remaining, live.elapsed, live.pending) == (
            timer.ACTIVE, 1000, 750, 250, 0,
        )  # fmt: skip
        assert (live.started, live.expected_stop) == (START, START + minutes(10))
        assert live.expected_stop == clock.timer_expected_stop

    def test_a_pause_stops_the_countdown_and_counts_as_pending(self, db: Db) -> None:
        clock = loaded(db, 10)
        timer.start(db, clock, START)
        timer.pause(db, clock, START + minutes(1))
        for waited in (0, 3, 30):
            live = timer.live_clock(db, clock, START + minutes(1 + waited))
            assert (live.state, live.remaining, live.elapsed, live.pending) == (timer.PENDING, 900, 100, waited * 100)
            assert (live.started, live.expected_stop) == (START, None)

    def test_after_a_resume_the_expected_stop_moves_by_the_pause(self, db: Db) -> None:
        clock = loaded(db, 10)
        timer.start(db, clock, START)
        timer.pause(db, clock, START + minutes(1))
        timer.resume(db, clock, START + minutes(4))
        live = timer.live_clock(db, clock, START + minutes(6))
        assert (live.remaining, live.elapsed, live.pending) == (700, 300, 300)
        assert live.expected_stop == START + minutes(13) == clock.timer_expected_stop

    def test_the_remaining_minutes_are_what_a_stop_would_leave_carry_and_rounding_included(self, db: Db) -> None:
        clock = loaded(db, 10)
        timer.start(db, clock, START)
        timer.stop(db, clock, START + timedelta(milliseconds=400))  # billed 0.01, 0.2 s owed back
        assert clock.timer_carry_us == -200_000
        later = START + minutes(1)
        timer.start(db, clock, later)
        for ms in (0, 100, 499, 500, 1099, 1100, 1700, 59_999, 61_234, 299_000):
            at = later + timedelta(milliseconds=ms)
            live = timer.live_clock(db, clock, at)
            assert live.remaining == stop_leaves(db, clock, at), ms
            assert live.elapsed == timer.hundredths_of_micros(ms * 1000), ms

    def test_the_remaining_minutes_reach_zero_before_the_run_out_and_never_go_below(self, db: Db) -> None:
        clock = loaded(db, 1)
        timer.start(db, clock, START)
        almost = START + timedelta(seconds=59, milliseconds=800)  # 0.9967 minutes: rounds to the balance
        live = timer.live_clock(db, clock, almost)
        assert (live.state, live.remaining) == (timer.ACTIVE, 0)
        assert live.remaining == stop_leaves(db, clock, almost)

    def test_a_run_out_timer_is_settled_first(self, db: Db) -> None:
        clock = loaded(db, 3)
        record = timer.start(db, clock, START)
        live = timer.live_clock(db, clock, START + minutes(10))
        assert live == timer.LiveClock(clock.id, timer.INACTIVE, 0, 0, 0, 0, None, None)
        assert (record.time_stop, record.spent_hundredths) == (START + minutes(3), 300)

    def test_a_paused_timer_with_the_balance_used_up_is_not_settled(self, db: Db) -> None:
        clock = loaded(db, 1)
        timer.start(db, clock, START)
        timer.pause(db, clock, START + timedelta(seconds=59, milliseconds=900))
        live = timer.live_clock(db, clock, START + minutes(5))
        assert (live.state, live.hundredths, live.remaining) == (timer.PENDING, 100, 0)

    def test_reading_changes_nothing(self, db: Db) -> None:
        clock = loaded(db, 10)
        timer.start(db, clock, START)
        before = (clock.state, clock.hundredths, clock.timer_active_us, clock.timer_carry_us, clock.write_date)
        timer.live(clock, START + minutes(4))
        assert not db.dirty
        assert (clock.state, clock.hundredths, clock.timer_active_us, clock.timer_carry_us, clock.write_date) == before
