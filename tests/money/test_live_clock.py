"""The live clock (`view clock_timer`), driven by a ManualClock: the settled balance and what is
left of it now, the run's active and paused time, its start and the instant the balance runs
out; a timer that ran out settled first; and what the view says is left is what a stop at that
instant leaves."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from ewallet.storage.models import CreditEwallet
from tests.answers import ok, refused
from tests.money import calls
from tests.money.books import assert_clean, books
from tests.money.calls import SUPPLIED, TO_CLOCK, wire_time
from tests.money.test_timer import PAUSED, RESUMED, STARTED, STOPPED, with_minutes
from tests.support import LineClient, Running

LIVE = (
    "clock", "clock_state", "credit_clock", "remaining_minutes", "elapsed_minutes", "pending_minutes",
    "start_timestamp", "expected_stop",
)  # fmt: skip
MINUTES = ("credit_clock", "remaining_minutes", "elapsed_minutes", "pending_minutes")


async def live(client: LineClient) -> dict[str, Any]:
    answer = ok(await client.call(action="view", view="clock_timer"), *LIVE)
    for key in MINUTES:
        assert type(answer[key]) is float, (key, answer)
    return answer


def figures(answer: dict[str, Any]) -> tuple[Any, ...]:
    """state, balance, remaining, elapsed, pending."""
    return (answer["clock_state"], *(answer[key] for key in MINUTES))


class TestInactive:
    async def test_shows_the_balance_as_what_is_left_and_no_run(self, server: Running) -> None:
        alice = await with_minutes(server, 10)
        answer = await live(alice)
        assert answer["clock"] == (await calls.clock(alice))["id"]
        assert figures(answer) == ("inactive", 10.0, 10.0, 0.0, 0.0)
        assert (answer["start_timestamp"], answer["expected_stop"]) == (None, None)

    async def test_an_empty_clock_shows_zeros(self, server: Running) -> None:
        alice = await calls.funded(server, 0)
        assert figures(await live(alice)) == ("inactive", 0.0, 0.0, 0.0, 0.0)

    async def test_changes_nothing_and_echoes_the_request_id(self, server: Running) -> None:
        alice = await with_minutes(server, 10)
        before = books(server)
        answer = ok(await alice.call(action="view", view="clock_timer", id="t-1"), *LIVE, "id")
        assert answer["id"] == "t-1"
        assert books(server) == before


class TestActive:
    async def test_counts_down_while_the_balance_stays_settled(self, any_server: Running) -> None:
        alice, clock = await with_minutes(any_server, 10), any_server.clock
        started = ok(await calls.timer(alice, "start"), *STARTED)
        began = clock.now()
        clock.advance(90)
        first = await live(alice)
        assert figures(first) == ("active", 10.0, 8.5, 1.5, 0.0)
        assert first["clock"] == started["clock"]
        assert first["start_timestamp"] == started["start_timestamp"] == wire_time(began)
        assert first["expected_stop"] == wire_time(began + timedelta(minutes=10))
        clock.advance(30.6)
        second = await live(alice)
        assert figures(second) == ("active", 10.0, 7.99, 2.01, 0.0)
        assert second["expected_stop"] == first["expected_stop"]

    async def test_the_expected_stop_is_now_plus_what_is_left(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 3), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(47)
        answer = await live(alice)
        left = timedelta(minutes=answer["remaining_minutes"])
        assert answer["expected_stop"] == wire_time(clock.now() + left)

    async def test_credits2clock_while_running_moves_the_expected_stop(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 5), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        began = clock.now()
        clock.advance(60)
        ok(await calls.supply(alice, 5), *SUPPLIED)
        ok(await calls.to_clock(alice, 5), *TO_CLOCK)
        answer = await live(alice)
        assert figures(answer) == ("active", 10.0, 9.0, 1.0, 0.0)
        assert answer["expected_stop"] == wire_time(began + timedelta(minutes=10))


class TestPaused:
    async def test_the_pause_grows_and_what_is_left_holds_still(self, any_server: Running) -> None:
        alice, clock = await with_minutes(any_server, 10), any_server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        began = clock.now()
        clock.advance(60)
        ok(await calls.timer(alice, "pause"), *PAUSED)
        clock.advance(120)
        answer = await live(alice)
        assert figures(answer) == ("pending", 10.0, 9.0, 1.0, 2.0)
        assert (answer["start_timestamp"], answer["expected_stop"]) == (wire_time(began), None)
        clock.advance(60)
        assert figures(await live(alice)) == ("pending", 10.0, 9.0, 1.0, 3.0)
        ok(await calls.timer(alice, "resume"), *RESUMED)
        resumed = clock.now()
        clock.advance(30)
        answer = await live(alice)
        assert figures(answer) == ("active", 10.0, 8.5, 1.5, 3.0)
        assert answer["expected_stop"] == wire_time(resumed + timedelta(minutes=9))
        assert answer["start_timestamp"] == wire_time(began)

    async def test_pending_minutes_match_what_the_stop_reports(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 10), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(10)
        ok(await calls.timer(alice, "pause"), *PAUSED)
        clock.advance(100.3)
        shown = await live(alice)
        stopped = ok(await calls.timer(alice, "stop"), *STOPPED)
        assert shown["pending_minutes"] == stopped["pending_time"] == 1.67
        assert shown["remaining_minutes"] == round(10.0 - stopped["minutes_spent"], 2)


class TestStopped:
    async def test_after_a_stop_what_is_left_is_the_balance(self, any_server: Running) -> None:
        alice, clock = await with_minutes(any_server, 10), any_server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(75)
        ok(await calls.timer(alice, "stop"), *STOPPED)
        answer = await live(alice)
        assert figures(answer) == ("inactive", 8.75, 8.75, 0.0, 0.0)
        assert (answer["start_timestamp"], answer["expected_stop"]) == (None, None)
        assert answer["credit_clock"] == await calls.minutes(alice)


class TestRunOut:
    async def test_a_timer_that_ran_out_is_settled_by_the_view_first(self, any_server: Running) -> None:
        alice, clock = await with_minutes(any_server, 1), any_server.clock
        clock_id = (await calls.clock(alice))["id"]
        ok(await calls.timer(alice, "start"), *STARTED)
        run_out = clock.now() + timedelta(seconds=60)
        clock.advance(600)
        assert books(any_server).clocks[clock_id] == (100, "active")  # nothing has settled it yet
        answer = await live(alice)
        assert figures(answer) == ("inactive", 0.0, 0.0, 0.0, 0.0)
        assert (answer["start_timestamp"], answer["expected_stop"]) == (None, None)
        assert books(any_server).clocks[clock_id] == (0, "inactive")
        [record_id] = await calls.records(alice, "time")
        record = await calls.record(alice, "time", record_id)
        assert (record["time_stop"], record["time_spent"]) == (wire_time(run_out), 1.0)
        refused(await calls.timer(alice, "stop"), "timer_state")
        assert_clean(any_server)

    async def test_what_is_left_reaches_zero_just_before_the_run_out_and_stays_there(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 1), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(59.8)  # 0.9967 minutes: a stop now bills the whole balance
        assert figures(await live(alice)) == ("active", 1.0, 0.0, 1.0, 0.0)
        clock.advance(0.2)
        assert figures(await live(alice)) == ("inactive", 0.0, 0.0, 0.0, 0.0)


class TestWhatAStopLeaves:
    @pytest.mark.parametrize("seconds", [0.0, 0.29, 0.3, 0.31, 37.3, 59.99, 61.234, 299.7])
    async def test_at_the_same_instant_a_stop_leaves_exactly_what_the_view_said(
        self, server: Running, seconds: float
    ) -> None:
        alice, clock = await with_minutes(server, 10), server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(0.4)  # billed 0.01: the next run starts 0.2 s in credit (the carry)
        ok(await calls.timer(alice, "stop"), *STOPPED)
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(seconds)
        shown = await live(alice)
        ok(await calls.timer(alice, "stop"), *STOPPED)
        assert shown["remaining_minutes"] == await calls.minutes(alice)
        assert shown["remaining_minutes"] >= 0.0

    async def test_a_stop_a_moment_later_leaves_what_the_view_said_within_a_hundredth(
        self, any_server: Running
    ) -> None:
        alice, clock = await with_minutes(any_server, 10), any_server.clock
        ok(await calls.timer(alice, "start"), *STARTED)
        for step in (13.7, 0.45, 41.05):
            clock.advance(step)
            shown = (await live(alice))["remaining_minutes"]
            clock.advance(0.3)
            ok(await calls.timer(alice, "stop"), *STOPPED)
            assert abs(await calls.minutes(alice) - shown) <= 0.01 + 1e-9
            ok(await calls.timer(alice, "start"), *STARTED)


class TestRefusals:
    async def test_without_an_active_clock_answers_as_view_credit_clock(self, server: Running) -> None:
        alice = await with_minutes(server, 10)
        with server.app.engine.begin() as conn:
            conn.execute(update(CreditEwallet).values(active_clock_id=None))
        expected = refused(await alice.call(action="view", view="credit", credit="clock"), "not_found")
        assert refused(await alice.call(action="view", view="clock_timer"), "not_found") == expected

    async def test_needs_a_login(self, server: Running) -> None:
        client = await server.session()
        refused(await client.call(action="view", view="clock_timer"), "not_logged_in")

    async def test_needs_the_session(self, server: Running) -> None:
        alice = await with_minutes(server, 10)
        alice.session_token = "ewsm-st:unknown"
        refused(await alice.call(action="view", view="clock_timer"), "unauthorized")

    async def test_refuses_any_other_key(self, server: Running) -> None:
        alice = await with_minutes(server, 10)
        refused(await alice.call(action="view", view="clock_timer", minutes=1), "invalid_value")
        refused(await alice.call(action="view", view="clock_timer", clock_timer="now"), "invalid_value")

    async def test_sees_only_the_callers_clock(self, server: Running) -> None:
        alice, clock = await with_minutes(server, 10), server.clock
        bob = await with_minutes(server, 4)
        ok(await calls.timer(alice, "start"), *STARTED)
        clock.advance(60)
        assert figures(await live(bob)) == ("inactive", 4.0, 4.0, 0.0, 0.0)
        assert (await live(bob))["clock"] == (await calls.clock(bob))["id"]
