"""The credit clock timer (§7 "The credit clock timer"), driven by a ManualClock: states and
wrong transitions, pending_time accounting, billing of active time only (half-up to 0.01,
capped at the balance), auto-stop at zero, and the instructions refused while a timer runs."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from ewallet.clock import ManualClock
from ewallet.storage.models import CreditClock
from tests.answers import ok, refused
from tests.money import calls
from tests.money.books import assert_clean, books, changes_nothing
from tests.money.calls import SUPPLIED, TO_CLOCK, is_id, wire_time
from tests.support import LineClient, Running, running_server

STARTED = ("clock", "start_timestamp")
PAUSED = ("clock", "pending_time", "start_timestamp", "pause_timestamp", "pending_count")
RESUMED = ("clock", "pending_time", "pause_timestamp", "resume_timestamp", "pending_count")
STOPPED = (
    "clock", "pending_count", "pending_time", "start_timestamp", "stop_timestamp",
    "minutes_spent", "time_record", "record_data",
)  # fmt: skip
TIME_RECORD = {
    "id", "time_sheet", "reference", "create_date", "write_date",
    "time_start", "time_stop", "time_spent", "time_pending", "pending_count",
}  # fmt: skip


async def with_minutes(running: Running, minutes: int) -> LineClient:
    """A user whose active clock holds `minutes` (converted at the default rate 1.00)."""
    client = await calls.funded(running, minutes)
    ok(await calls.to_clock(client, minutes), *TO_CLOCK)
    return client


async def open_record(client: LineClient) -> dict[str, Any]:
    [record_id] = (await calls.records(client, "time"))[-1:]
    return await calls.record(client, "time", record_id)


class TestStart:
    async def test_answers_the_clock_and_the_start_instant(self, server: Running) -> None:
        alice = await with_minutes(server, 10)
        answer = ok(await calls.timer(alice, "start"), *STARTED)
        assert answer["clock"] == (await calls.clock(alice))["id"]
        assert answer["start_timestamp"] == wire_time(server.clock.now())
        assert (await calls.clock(alice))["clock_state"] == "active"

    async def test_opens_a_time_record_in_the_active_time_sheet(self, server: Running) -> None:
        alice = await with_minutes(server, 10)
        ok(await calls.timer(alice, "start"), *STARTED)
        data = await open_record(alice)
        assert set(data) == TIME_RECORD
        assert data["time_sheet"] == (await calls.clock(alice))["time_sheet"]
        assert data["time_start"] == wire_time(server.clock.now())
        assert (data["time_stop"], data["time_spent"], data["time_pending"], data["pending_count"]) == (
            None, 0.0, 0.0, 0,
        )  # fmt: skip
        assert type(data["time_spent"]) is float and type(data["time_pending"]) is float
        assert data["reference"] == "Time Sheet Record"

    async def test_needs_a_positive_balance_and_changes_nothing_without_one(self, server: Running) -> None:
        alice = await calls.funded(server, 10)
        async with changes_nothing(server, alice):
            refused(await calls.timer(alice, "start"), "insufficient_clock")
        assert (await calls.clock(alice))["clock_state"] == "inactive"

    async def test_starts_with_the_smallest_balance_and_runs_it_out(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 1), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(59.4)
        assert ok(await calls.timer(alice, "stop"), *STOPPED)["minutes_spent"] == 0.99
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(0.6)
        data = await calls.clock(alice)
        assert (data["clock_state"], data["credit_clock"]) == ("inactive", 0.0)
        refused(await calls.timer(alice, "start"), "insufficient_clock")
        assert_clean(server)


class TestWrongTransitions:
    @pytest.mark.parametrize("verb", ["pause", "resume", "stop"])
    async def test_refuses_anything_but_start_while_inactive(self, server: Running, verb: str) -> None:
        alice = await with_minutes(server, 10)
        async with changes_nothing(server, alice):
            refused(await calls.timer(alice, verb), "timer_state")

    @pytest.mark.parametrize("verb", ["start", "resume"])
    async def test_refuses_start_and_resume_while_active(self, server: Running, verb: str) -> None:
        alice = await with_minutes(server, 10)
        ok(await calls.timer(alice, "start"), *STARTED)
        server.clock.advance(5)
        before = books(server)
        refused(await calls.timer(alice, verb), "timer_state")
        assert books(server) == before
        assert (await calls.clock(alice))["clock_state"] == "active"

    @pytest.mark.parametrize("verb", ["start", "pause"])
    async def test_refuses_start_and_pause_while_pending(self, server: Running, verb: str) -> None:
        alice = await with_minutes(server, 10)
        ok(await calls.timer(alice, "start"), *STARTED)
        ok(await calls.timer(alice, "pause"), *PAUSED)
        before = books(server)
        refused(await calls.timer(alice, verb), "timer_state")
        assert books(server) == before
        assert (await calls.clock(alice))["clock_state"] == "pending"

    async def test_walks_through_every_state_and_back(self, server: Running) -> None:
        alice = await with_minutes(server, 10)
        states = []
        for verb in ("start", "pause", "resume", "pause", "stop", "start", "stop"):
            assert (await calls.timer(alice, verb))["failed"] is False, verb
            states.append((await calls.clock(alice))["clock_state"])
        assert states == ["active", "pending", "active", "pending", "inactive", "active", "inactive"]


class TestPauseAndResume:
    async def test_counts_pending_time_before_this_pause_at_pause_and_including_it_at_resume(
        self, server: Running
    ) -> None:
        alice, clock = await with_minutes(server, 10), server.clock
        started = wire_time(clock.now())
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(30)
        first = ok(await calls.timer(alice, "pause"), *PAUSED)
        assert (first["pending_time"], first["pending_count"]) == (0.0, 1)
        assert (first["start_timestamp"], first["pause_timestamp"]) == (started, wire_time(clock.now()))
        paused_at = first["pause_timestamp"]
        clock.advance(60)
        back = ok(await calls.timer(alice, "resume"), *RESUMED)
        assert (back["pending_time"], back["pending_count"]) == (1.0, 1)
        assert (back["pause_timestamp"], back["resume_timestamp"]) == (paused_at, wire_time(clock.now()))
        clock.advance(30)
        second = ok(await calls.timer(alice, "pause"), *PAUSED)
        assert (second["pending_time"], second["pending_count"]) == (1.0, 2)
        assert second["start_timestamp"] == started
        clock.advance(90)
        again = ok(await calls.timer(alice, "resume"), *RESUMED)
        assert (again["pending_time"], again["pending_count"]) == (2.5, 2)
        for answer in (first, second):
            assert type(answer["pending_time"]) is float
        clock.advance(6)
        stopped = ok(await calls.timer(alice, "stop"), *STOPPED)
        assert (stopped["pending_time"], stopped["pending_count"], stopped["minutes_spent"]) == (2.5, 2, 1.1)
        assert stopped["start_timestamp"] == started

    async def test_rounds_pending_time_half_up_to_a_hundredth(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 10), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        ok(await calls.timer(alice, "pause"), *PAUSED)
        clock.advance(0.3)
        assert ok(await calls.timer(alice, "resume"), *RESUMED)["pending_time"] == 0.01
        ok(await calls.timer(alice, "pause"), *PAUSED)
        clock.advance(0.29)
        assert ok(await calls.timer(alice, "resume"), *RESUMED)["pending_time"] == 0.01  # 0.59 s in all

    async def test_a_paused_timer_does_not_run_out(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 1), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(30)
        ok(await calls.timer(alice, "pause"), *PAUSED)
        clock.advance(3600)
        data = await calls.clock(alice)
        assert (data["clock_state"], data["credit_clock"]) == ("pending", 1.0)
        ok(await calls.timer(alice, "resume"), *RESUMED)
        clock.advance(29)
        assert ok(await calls.timer(alice, "stop"), *STOPPED)["minutes_spent"] == 0.98


class TestStop:
    async def test_answers_the_billed_minutes_and_the_closed_time_record(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 10), server.clock
        started = wire_time(clock.now())
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(90)
        answer = ok(await calls.timer(alice, "stop"), *STOPPED)
        assert (answer["minutes_spent"], answer["pending_time"], answer["pending_count"]) == (1.5, 0.0, 0)
        assert type(answer["minutes_spent"]) is float and type(answer["pending_time"]) is float
        assert (answer["start_timestamp"], answer["stop_timestamp"]) == (started, wire_time(clock.now()))
        assert is_id(answer["time_record"]) and answer["clock"] == (await calls.clock(alice))["id"]
        assert set(answer["record_data"]) == TIME_RECORD
        assert answer["record_data"] == await calls.record(alice, "time", answer["time_record"])
        data = answer["record_data"]
        assert (data["time_start"], data["time_stop"], data["time_spent"], data["time_pending"]) == (
            started, wire_time(clock.now()), 1.5, 0.0,
        )  # fmt: skip
        clock_data = await calls.clock(alice)
        assert (clock_data["credit_clock"], clock_data["clock_state"]) == (8.5, "inactive")
        assert await calls.credits(alice) == 0
        assert_clean(server)

    async def test_bills_only_active_time(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 10), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(30)
        ok(await calls.timer(alice, "pause"), *PAUSED)
        clock.advance(600)
        ok(await calls.timer(alice, "resume"), *RESUMED)
        clock.advance(30)
        answer = ok(await calls.timer(alice, "stop"), *STOPPED)
        assert (answer["minutes_spent"], answer["pending_time"], answer["pending_count"]) == (1.0, 10.0, 1)
        assert await calls.minutes(alice) == 9.0

    @pytest.mark.parametrize(
        ("seconds", "billed"),
        [(30, 0.5), (0.3, 0.01), (0.29, 0.0), (1.5, 0.03), (0.9, 0.02), (59.7, 1.0), (61.2, 1.02), (0.000001, 0.0)],
    )
    async def test_rounds_active_minutes_half_up_to_a_hundredth(
        self, server: Running, seconds: float, billed: float
    ) -> None:
        alice = await with_minutes(server, 10)
        ok(await calls.timer(alice, "start"), *STARTED)
        server.clock.advance(seconds)
        answer = ok(await calls.timer(alice, "stop"), *STOPPED)
        assert answer["minutes_spent"] == billed and answer["record_data"]["time_spent"] == billed
        assert await calls.minutes(alice) == round(10 - billed, 2)
        assert_clean(server)

    async def test_ends_a_pause_at_the_stop_instant_when_stopped_while_pending(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 10), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(30)
        ok(await calls.timer(alice, "pause"), *PAUSED)
        clock.advance(90)
        answer = ok(await calls.timer(alice, "stop"), *STOPPED)
        assert (answer["minutes_spent"], answer["pending_time"], answer["pending_count"]) == (0.5, 1.5, 1)
        assert answer["stop_timestamp"] == wire_time(clock.now())
        assert answer["record_data"]["time_stop"] == wire_time(clock.now())
        assert answer["record_data"]["time_pending"] == 1.5
        assert await calls.minutes(alice) == 9.5

    async def test_counts_a_wall_clock_stepped_back_as_no_time(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 10), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(-120)
        answer = ok(await calls.timer(alice, "stop"), *STOPPED)
        assert answer["minutes_spent"] == 0.0
        assert await calls.minutes(alice) == 10.0
        assert_clean(server)

    async def test_keeps_running_across_a_logout(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 10), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        assert (await alice.call(action="logout"))["failed"] is False
        clock.advance(60)
        again = await calls.login_again(server, alice.email)
        assert (await calls.clock(again))["clock_state"] == "active"
        assert ok(await calls.timer(again, "stop"), *STOPPED)["minutes_spent"] == 1.0


class TestAutoStop:
    async def test_stops_at_the_instant_active_time_reaches_the_balance(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 1), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(20)
        ok(await calls.timer(alice, "pause"), *PAUSED)
        clock.advance(100)
        ok(await calls.timer(alice, "resume"), *RESUMED)
        run_out = clock.now() + timedelta(seconds=40)
        clock.advance(500)
        data = await calls.clock(alice)
        assert (data["credit_clock"], data["clock_state"]) == (0.0, "inactive")
        record = await open_record(alice)
        assert (record["time_stop"], record["time_spent"], record["time_pending"], record["pending_count"]) == (
            wire_time(run_out), 1.0, 1.67, 1,
        )  # fmt: skip
        assert_clean(server)

    async def test_refuses_stop_pause_and_resume_afterwards(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 1), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(61)
        for verb in ("stop", "pause", "resume"):
            refused(await calls.timer(alice, verb), "timer_state")
        refused(await calls.timer(alice, "start"), "insufficient_clock")
        record = await open_record(alice)
        assert (record["time_spent"], record["time_stop"]) == (1.0, wire_time(clock.now() - timedelta(seconds=1)))
        assert await calls.minutes(alice) == 0.0
        assert_clean(server)

    async def test_settles_when_the_first_instruction_after_the_run_out_is_a_refused_stop(
        self, server: Running
    ) -> None:
        alice, clock = await with_minutes(server, 2), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        run_out = clock.now() + timedelta(seconds=120)
        clock.advance(300)
        refused(await calls.timer(alice, "stop"), "timer_state")
        clock.advance(300)
        record = await open_record(alice)
        assert (record["time_stop"], record["time_spent"]) == (wire_time(run_out), 2.0)

    async def test_shows_the_closed_record_when_the_record_is_viewed_first(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 1), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        [record_id] = await calls.records(alice, "time")
        run_out = clock.now() + timedelta(seconds=60)
        clock.advance(600)
        record = await calls.record(alice, "time", record_id)
        assert (record["time_stop"], record["time_spent"]) == (wire_time(run_out), 1.0)
        assert await calls.minutes(alice) == 0.0

    async def test_lets_the_record_be_hidden_once_the_balance_ran_out(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 1), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        [record_id] = await calls.records(alice, "time")
        clock.advance(600)
        ok(await calls.unlink_record(alice, "time", record_id), "time_sheet", "time_record")
        assert await calls.records(alice, "time") == []
        assert await calls.minutes(alice) == 0.0
        assert_clean(server)

    async def test_stops_exactly_at_the_balance_and_not_a_moment_before(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 1), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(59.999)
        assert (await calls.clock(alice))["clock_state"] == "active"
        clock.advance(0.001)
        data = await calls.clock(alice)
        assert (data["clock_state"], data["credit_clock"]) == ("inactive", 0.0)

    async def test_is_settled_by_the_periodic_sweep_without_any_instruction(
        self, sqlite_url: str, clock: ManualClock
    ) -> None:
        async with running_server(sqlite_url, clock, timer_sweep=0.1) as running:
            alice = await with_minutes(running, 1)
            clock_id = (await calls.clock(alice))["id"]
            ok(await calls.timer(alice, "start"), *STARTED)
            run_out = clock.now() + timedelta(seconds=60)
            clock.advance(90)
            for _ in range(100):
                if books(running).clocks[clock_id] == (0, "inactive"):
                    break
                await asyncio.sleep(0.05)
            assert books(running).clocks[clock_id] == (0, "inactive")
            record = await open_record(alice)
            assert (record["time_stop"], record["time_spent"]) == (wire_time(run_out), 1.0)
            assert_clean(running)


@pytest.mark.parametrize("state", ["active", "pending"])
class TestWhileRunning:
    async def running_timer(self, running: Running, state: str) -> LineClient:
        alice = await with_minutes(running, 10)
        ok(await calls.supply(alice, 5), *SUPPLIED)
        ok(await calls.timer(alice, "start"), *STARTED)
        running.clock.advance(6)
        if state == "pending":
            ok(await calls.timer(alice, "pause"), *PAUSED)
        return alice

    async def test_refuses_switching_the_clock_or_the_ewallet(self, server: Running, state: str) -> None:
        alice = await self.running_timer(server, state)
        other_clock = (await alice.call(action="new", new="credit", credit="clock"))["clock"]
        other_ewallet = (await alice.call(action="new", new="credit", credit="ewallet"))["ewallet"]
        async with changes_nothing(server, alice):
            refused(await alice.call(action="switch", switch="credit", credit="clock", clock_id=other_clock),
                    "timer_state")  # fmt: skip
            refused(await alice.call(action="switch", switch="credit", credit="ewallet", ewallet_id=other_ewallet),
                    "timer_state")  # fmt: skip
        assert (await calls.clock(alice))["clock_state"] == state

    async def test_refuses_unlinking_the_clock_or_its_ewallet(self, server: Running, state: str) -> None:
        alice = await self.running_timer(server, state)
        ok(await alice.call(action="new", new="credit", credit="clock"), "clock", "clock_data")
        ok(await alice.call(action="new", new="credit", credit="ewallet"), "ewallet", "ewallet_data")
        clock_id, ewallet_id = (await calls.clock(alice))["id"], (await calls.ewallet(alice))["id"]
        async with changes_nothing(server, alice):
            refused(await alice.call(action="unlink", unlink="credit", credit="clock", clock_id=clock_id),
                    "timer_state")  # fmt: skip
            refused(await alice.call(action="unlink", unlink="credit", credit="ewallet", ewallet_id=ewallet_id),
                    "timer_state")  # fmt: skip

    async def test_refuses_hiding_the_open_time_record_or_its_sheet(self, server: Running, state: str) -> None:
        alice = await self.running_timer(server, state)
        record = await open_record(alice)
        ok(await alice.call(action="new", new="time", time="list"), "time_sheet", "sheet_data")
        async with changes_nothing(server, alice):
            refused(await calls.unlink_record(alice, "time", record["id"]), "timer_state")
            refused(await alice.call(action="unlink", unlink="time", time="list", list_id=record["time_sheet"]),
                    "timer_state")  # fmt: skip

    async def test_refuses_clock2credits(self, server: Running, state: str) -> None:
        alice = await self.running_timer(server, state)
        async with changes_nothing(server, alice):
            refused(await calls.to_credits(alice, 1), "timer_state")

    async def test_allows_credits2clock_which_extends_the_run(self, server: Running, state: str) -> None:
        alice, clock = await self.running_timer(server, state), server.clock
        answer = await calls.to_clock(alice, 5)
        assert answer["failed"] is False and answer["credit_clock"] == 15.0, answer
        if state == "pending":
            ok(await calls.timer(alice, "resume"), *RESUMED)
        clock.advance(14 * 60)  # 6 s + 14 min: beyond the 10 minutes held at start
        assert (await calls.clock(alice))["clock_state"] == "active"
        clock.advance(60)
        data = await calls.clock(alice)
        assert (data["clock_state"], data["credit_clock"]) == ("inactive", 0.0)
        assert (await open_record(alice))["time_spent"] == 15.0
        assert_clean(server)


class TestAcrossProcesses:
    async def test_stops_a_timer_started_before_a_restart_correctly_after_it(
        self, database_url: str, clock: ManualClock
    ) -> None:
        async with running_server(database_url, clock) as first:
            alice = await with_minutes(first, 10)
            started = wire_time(clock.now())
            ok(await calls.timer(alice, "start"), *STARTED)
            clock.advance(30)
            ok(await calls.timer(alice, "pause"), *PAUSED)
            clock.advance(30)
            ok(await calls.timer(alice, "resume"), *RESUMED)
            session = (alice.client_id, alice.session_token)
        clock.advance(45)
        async with running_server(database_url, clock) as second:
            again = await second.client()
            again.client_id, again.session_token = session
            assert (await calls.clock(again))["clock_state"] == "active"
            answer = ok(await calls.timer(again, "stop"), *STOPPED)
            assert (answer["minutes_spent"], answer["pending_time"], answer["pending_count"]) == (1.25, 0.5, 1)
            assert (answer["start_timestamp"], answer["stop_timestamp"]) == (started, wire_time(clock.now()))
            assert await calls.minutes(again) == 8.75
            assert_clean(second)

    async def test_stops_on_one_process_a_timer_another_process_started(
        self, database_url: str, clock: ManualClock
    ) -> None:
        async with running_server(database_url, clock) as one, running_server(database_url, clock) as other:
            alice = await with_minutes(one, 10)
            ok(await calls.timer(alice, "start"), *STARTED)
            clock.advance(120)
            elsewhere = await other.client()
            elsewhere.client_id, elsewhere.session_token = alice.client_id, alice.session_token
            assert ok(await calls.timer(elsewhere, "stop"), *STOPPED)["minutes_spent"] == 2.0
            refused(await calls.timer(alice, "stop"), "timer_state")
            assert await calls.minutes(alice) == 8.0


class TestBillingCarry:
    """§11: each stop bills its minutes rounded half-up, and carries the difference between the
    exact active time and the bill into the next one (before: short runs were free)."""

    async def test_many_short_runs_are_billed_what_they_add_up_to(self, any_server: Running) -> None:
        alice, clock = await with_minutes(any_server, 10), any_server.clock
        billed = 0.0
        for _ in range(23):
            ok(await calls.timer(alice, "start"), *STARTED)
            clock.advance(0.25)
            billed += ok(await calls.timer(alice, "stop"), *STOPPED)["minutes_spent"]
        exact = 23 * 0.25 / 60  # 0.0958... minutes
        assert abs(billed - exact) <= 0.005 + 1e-9, billed
        assert round(billed, 2) == 0.1
        assert await calls.minutes(alice) == round(10 - billed, 2)
        assert_clean(any_server)

    async def test_an_over_billed_run_is_given_back_on_the_next(self, any_server: Running) -> None:
        alice, clock = await with_minutes(any_server, 10), any_server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(0.4)  # 0.00667 minutes: billed 0.01, 0.2 s too much
        assert ok(await calls.timer(alice, "stop"), *STOPPED)["minutes_spent"] == 0.01
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(0.5)  # 0.5 s less the 0.2 s already paid is 0.3 s: 0.005 minutes, rounds up
        assert ok(await calls.timer(alice, "stop"), *STOPPED)["minutes_spent"] == 0.01
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(0.1)  # 0.1 s less the 0.3 s over-billed: nothing
        assert ok(await calls.timer(alice, "stop"), *STOPPED)["minutes_spent"] == 0.0

    async def test_the_billed_total_follows_active_time_across_pauses(self, any_server: Running) -> None:
        alice, clock = await with_minutes(any_server, 10), any_server.clock
        billed = 0.0
        for _ in range(10):
            ok(await calls.timer(alice, "start"), *STARTED)
            clock.advance(0.2)
            ok(await calls.timer(alice, "pause"), *PAUSED)
            clock.advance(30)
            ok(await calls.timer(alice, "resume"), *RESUMED)
            clock.advance(0.2)
            billed += ok(await calls.timer(alice, "stop"), *STOPPED)["minutes_spent"]
        assert abs(billed - 10 * 0.4 / 60) <= 0.005 + 1e-9, billed

    async def test_running_the_balance_out_carries_nothing_over(self, any_server: Running) -> None:
        alice, clock = await with_minutes(any_server, 1), any_server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(0.25)  # carries 0.25 s
        assert ok(await calls.timer(alice, "stop"), *STOPPED)["minutes_spent"] == 0.0
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(120)  # runs out: the whole minute is billed, the carry is settled with it
        assert (await calls.clock(alice))["clock_state"] == "inactive"
        ok(await calls.supply(alice, 1), *SUPPLIED)
        ok(await calls.to_clock(alice, 1), *TO_CLOCK)
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(0.25)
        assert ok(await calls.timer(alice, "stop"), *STOPPED)["minutes_spent"] == 0.0
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(0.2)  # 0.45 s in all since the run-out: 0.0075 minutes, billed 0.01
        assert ok(await calls.timer(alice, "stop"), *STOPPED)["minutes_spent"] == 0.01
        assert_clean(any_server)


class TestSweepReachesEveryDueTimer:
    async def test_settles_a_due_timer_behind_more_than_500_running_ones(
        self, database_url: str, clock: ManualClock
    ) -> None:
        """Before: the sweep looked only at the 500 lowest-id active clocks, so a due timer
        behind them stayed active at zero for good."""
        async with running_server(database_url, clock) as running:
            crowd = await with_minutes(running, 100)
            ewallet = (await calls.clock(crowd))["ewallet"]
            now = clock.now()
            # 500 running timers with hours left, at lower ids than the one that runs out.
            with running.app.engine.begin() as conn:
                conn.execute(
                    insert(CreditClock.__table__),
                    [
                        {
                            "ewallet_id": ewallet,
                            "reference": "Crowd",
                            "hundredths": 10**8,
                            "state": "active",
                            "timer_started": now,
                            "timer_segment_start": now,
                            "timer_active_us": 0,
                            "timer_pending_us": 0,
                            "timer_pending_count": 0,
                            "hidden": False,
                            "create_date": now,
                            "write_date": now,
                        }
                        for _ in range(500)
                    ],
                )
            alice = await with_minutes(running, 1)
            clock_id = (await calls.clock(alice))["id"]
            ok(await calls.timer(alice, "start"), *STARTED)
            clock.advance(90)
            sweep = next(job for job in running.app.maintenance.jobs if job.name == "timer sweep")
            running.app.maintenance.run_once(sweep)
            assert books(running).clocks[clock_id] == (0, "inactive")
