"""The credit clock timer: its states, what it bills, and the rounding carried between bills."""

from __future__ import annotations

from datetime import timedelta

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
