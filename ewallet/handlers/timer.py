"""The credit clock timer: start, pause, resume, stop on the active clock, and the live clock."""

from __future__ import annotations

from ewallet.domain import resources, timer
from ewallet.domain.locks import held_clock
from ewallet.domain.units import minutes_of
from ewallet.domain.views import time_record_data
from ewallet.handlers.context import Context
from ewallet.routes import Access, client_route
from ewallet.schemas.base import NoParams
from ewallet.schemas.money import ClockTimerView, TimerPaused, TimerResumed, TimerStarted, TimerStopped
from ewallet.schemas.shapes import TimeRecordData
from ewallet.storage.models import CreditClock


def _clock(ctx: Context) -> CreditClock:
    return held_clock(ctx.db, ctx.user.id)


def start(_: NoParams, ctx: Context) -> TimerStarted:
    clock = _clock(ctx)
    record = timer.start(ctx.db, clock, ctx.now)
    return TimerStarted(clock=clock.id, start_timestamp=record.time_start)


def pause(_: NoParams, ctx: Context) -> TimerPaused:
    clock = _clock(ctx)
    before = timer.pending_hundredths(clock)
    timer.pause(ctx.db, clock, ctx.now)
    assert clock.timer_started is not None
    return TimerPaused(
        clock=clock.id,
        pending_time=minutes_of(before),
        start_timestamp=clock.timer_started,
        pause_timestamp=ctx.now,
        pending_count=clock.timer_pending_count,
    )


def resume(_: NoParams, ctx: Context) -> TimerResumed:
    clock = _clock(ctx)
    paused_at = timer.resume(ctx.db, clock, ctx.now)
    return TimerResumed(
        clock=clock.id,
        pending_time=minutes_of(timer.pending_hundredths(clock)),
        pause_timestamp=paused_at,
        resume_timestamp=ctx.now,
        pending_count=clock.timer_pending_count,
    )


def stop(_: NoParams, ctx: Context) -> TimerStopped:
    clock = _clock(ctx)
    started = clock.timer_started
    stopped = timer.stop(ctx.db, clock, ctx.now)
    record = stopped.record
    assert started is not None and record.time_stop is not None
    return TimerStopped(
        clock=clock.id,
        pending_count=record.pending_count,
        pending_time=minutes_of(stopped.pending),
        start_timestamp=started,
        stop_timestamp=record.time_stop,
        minutes_spent=minutes_of(stopped.spent),
        time_record=record.id,
        record_data=TimeRecordData.of(time_record_data(record)),
    )


def view(_: NoParams, ctx: Context) -> ClockTimerView:
    clock = resources.active_clock(ctx.db, ctx.user)
    return ClockTimerView.of(timer.live_clock(ctx.db, clock, ctx.now))


#: The timer changes the clock, never the caller's session or account. The view is no read-only
#: route: like view credit.clock it settles a timer that ran out, which writes.

ROUTES = [
    client_route("start", "clock_timer", start, Access.USER, summary="Start the active clock's timer"),
    client_route("pause", "clock_timer", pause, Access.USER, summary="Pause the running timer"),
    client_route("resume", "clock_timer", resume, Access.USER, summary="Resume the paused timer"),
    client_route("stop", "clock_timer", stop, Access.USER, summary="Stop the timer and bill active time"),
    client_route("view", "clock_timer", view, Access.USER, summary="View the active clock's timer now"),
]
