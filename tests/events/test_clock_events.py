"""The timer's events over the wire: `timer_stopped` when a timer stops itself at zero (settled
by a view or by the sweep), and `clock_low` once per run when the remaining minutes reach the
subscription's threshold, scheduled from the instant the balance runs out (the server's clock is
a manual one here: the warning fires once real time has passed its instant and the server's
clock says the minutes are that low; so the thresholds sit a fraction of a second below the
balance, and the manual clock moves a second or more)."""

from __future__ import annotations

import asyncio

import pytest

from tests.events.test_subscribe import Lines, subscriber, supply
from tests.support import Running

pytestmark = pytest.mark.asyncio


async def loaded(running: Running, minutes: int) -> Lines:
    lines, _ = await subscriber(running)
    await supply(lines, minutes)
    answer = await lines.call(action="convert", convert="credits2clock", credits=minutes)
    assert answer["failed"] is False, answer
    return lines


async def timer(lines: Lines, verb: str) -> dict:
    answer = await lines.call(action=verb, **{verb: "clock_timer"})
    assert answer["failed"] is False, answer
    return answer


class TestTimerStopped:
    async def test_a_run_out_timer_settled_by_a_view_is_announced_with_its_time_record(
        self, any_server: Running
    ) -> None:
        lines = await loaded(any_server, 1)
        await lines.subscribe(kinds=["timer_stopped"])
        started = await timer(lines, "start")
        any_server.clock.advance(seconds=75)
        view = await lines.call(action="view", view="credit", credit="clock")
        assert view["clock_data"]["clock_state"] == "inactive"
        [event] = await lines.until(1)
        assert event["event"] == "timer_stopped"
        data = event["data"]
        assert data["clock"] == view["clock"]
        record = await lines.call(action="view", view="time", time="record", record_id=data["time_record"])
        assert data["record_data"] == record["record_data"]
        assert data["record_data"]["time_spent"] == 1.0
        assert started["failed"] is False

    async def test_the_sweep_announces_it_too_and_a_stop_by_the_user_is_not_announced(
        self, any_server: Running
    ) -> None:
        lines = await loaded(any_server, 2)
        await lines.subscribe(kinds=["timer_stopped"])
        await timer(lines, "start")
        any_server.clock.advance(seconds=30)
        await timer(lines, "stop")  # stopped by the user: no event
        await timer(lines, "start")
        any_server.clock.advance(seconds=200)
        sweep = next(job for job in any_server.app.maintenance.jobs if job.name == "timer sweep")
        assert await asyncio.get_running_loop().run_in_executor(None, any_server.app.maintenance.run_once, sweep) == 1
        [event] = await lines.until(1)
        assert event["data"]["record_data"]["time_spent"] == 1.5
        await lines.quiet(0.3)
        assert len(lines.events) == 1


class TestClockLow:
    async def test_fires_once_per_run_when_the_threshold_is_reached(self, any_server: Running) -> None:
        lines = await loaded(any_server, 10)
        await lines.subscribe(kinds=["clock_low"], clock_low_minutes=9.99)
        await timer(lines, "start")
        any_server.clock.advance(seconds=1)  # 9.98 minutes left: below the threshold
        [event] = await lines.until(1, timeout=3.0)
        assert event["event"] == "clock_low"
        assert event["data"]["remaining_minutes"] == 9.98
        live = await lines.call(action="view", view="clock_timer")
        assert event["data"]["expected_stop"] == live["expected_stop"]
        assert event["data"]["clock"] == live["clock"]
        # Once per run: pausing and resuming moves the instant, but the run was warned already.
        await timer(lines, "pause")
        await timer(lines, "resume")
        any_server.clock.advance(seconds=5)
        await lines.quiet(1.0)
        assert len(lines.events) == 1
        # A new run is warned again.
        await timer(lines, "stop")
        await timer(lines, "start")
        any_server.clock.advance(seconds=30)
        second = await lines.until(2, timeout=3.0)
        assert second[1]["seq"] > event["seq"]

    async def test_a_paused_timer_is_not_warned_until_it_runs_again(self, any_server: Running) -> None:
        lines = await loaded(any_server, 10)
        await lines.subscribe(kinds=["clock_low"], clock_low_minutes=9.99)
        await timer(lines, "start")
        await timer(lines, "pause")
        any_server.clock.advance(seconds=120)  # paused time is not billed
        await lines.quiet(1.2)
        assert lines.events == []
        await timer(lines, "resume")
        any_server.clock.advance(seconds=1)
        [event] = await lines.until(1, timeout=3.0)
        assert event["data"]["remaining_minutes"] == 9.98

    async def test_subscribers_with_the_same_threshold_share_one_stored_warning(self, any_server: Running) -> None:
        lines = await loaded(any_server, 10)
        await lines.subscribe(kinds=["clock_low"], clock_low_minutes=9.99)
        other = Lines(await any_server.client())
        other.client.client_id, other.client.session_token = lines.client.client_id, lines.client.session_token
        await other.subscribe(kinds=["clock_low"], clock_low_minutes=9.99)
        await timer(lines, "start")
        any_server.clock.advance(seconds=10)
        [mine] = await lines.until(1, timeout=3.0)
        [theirs] = await other.until(1, timeout=3.0)
        assert mine == theirs
        await lines.quiet(0.5)
        await other.quiet(0.1)
        assert len(lines.events) == len(other.events) == 1
