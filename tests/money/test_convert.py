"""Converting credits to clock minutes and back (§7): minutes = credits x rate; the way back
must give whole credits (nothing is rounded); minutes are always two-decimal floats on output."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from ewallet.clock import ManualClock
from tests.answers import ok, refused
from tests.money import calls
from tests.money.books import assert_clean, books, changes_nothing
from tests.money.calls import BAD_CREDITS, TO_CLOCK, TO_CREDITS, is_id
from tests.support import Running, running_server

#: §3: minutes 0.01...10^9 with at most two decimals, a JSON number (never a bool or a string).
BAD_MINUTES = [0, 0.0, -1, -0.01, 0.001, 1.234, 10**9 + 0.01, 10**10, "5", True, None, [5]]


@pytest.fixture(params=["0.50", "2.50"])
async def rated(request: pytest.FixtureRequest, sqlite_url: str, clock: ManualClock) -> AsyncIterator[Running]:
    """A server converting at a rate other than the default."""
    async with running_server(sqlite_url, clock, conversion_rate=Decimal(request.param)) as running:
        yield running


def rate_of(running: Running) -> Decimal:
    return running.app.settings.conversion_rate


class TestCreditsToClock:
    async def test_answers_the_record_both_balances_and_the_converted_credits(self, server: Running) -> None:
        alice = await calls.funded(server, 100)
        answer = ok(await calls.to_clock(alice, 30), *TO_CLOCK)
        assert is_id(answer["conversion_record"])
        assert (answer["ewallet_credits"], answer["converted_credits"]) == (70, 30)
        assert answer["credit_clock"] == 30.0 and type(answer["credit_clock"]) is float
        assert (await calls.credits(alice), await calls.minutes(alice)) == (70, 30.0)

    async def test_writes_a_conversion_record_in_the_active_conversion_sheet_and_no_transfer_rows(
        self, server: Running
    ) -> None:
        alice = await calls.funded(server, 100)
        before = books(server).rows
        answer = ok(await calls.to_clock(alice, 30, notes="for the week"), *TO_CLOCK)
        data = await calls.record(alice, "conversion", answer["conversion_record"])
        assert set(data) == {
            "id", "conversion_sheet", "reference", "create_date", "write_date", "conversion_type", "minutes", "credits",
        }  # fmt: skip
        assert (data["conversion_type"], data["minutes"], data["credits"]) == ("credits2clock", 30.0, 30)
        assert type(data["minutes"]) is float
        assert data["reference"] == "Conversion Sheet Record"
        assert data["conversion_sheet"] == (await calls.clock(alice))["conversion_sheet"]
        assert await calls.records(alice, "conversion") == [answer["conversion_record"]]
        after = books(server).rows
        assert (after["transfer"], after["invoice"], after["conversion"]) == (
            before["transfer"], before["invoice"], before["conversion"] + 1,
        )  # fmt: skip
        assert_clean(server)

    async def test_fills_the_active_clock_of_the_active_ewallet(self, server: Running) -> None:
        alice = await calls.funded(server, 100)
        first = await calls.clock(alice)
        second = ok(await alice.call(action="new", new="credit", credit="clock"), "clock", "clock_data")
        ok(await alice.call(action="switch", switch="credit", credit="clock", clock_id=second["clock"]),
           "clock", "clock_data")  # fmt: skip
        ok(await calls.to_clock(alice, 8), *TO_CLOCK)
        assert await calls.minutes(alice) == 8.0
        ok(await alice.call(action="switch", switch="credit", credit="clock", clock_id=first["id"]),
           "clock", "clock_data")  # fmt: skip
        assert await calls.minutes(alice) == 0.0
        assert_clean(server)

    async def test_refuses_more_credits_than_the_ewallet_holds_and_changes_nothing(self, server: Running) -> None:
        alice = await calls.funded(server, 10)
        async with changes_nothing(server, alice):
            refused(await calls.to_clock(alice, 11), "insufficient_credits")

    async def test_refuses_bad_credits_and_changes_nothing(self, server: Running) -> None:
        alice = await calls.funded(server, 10)
        async with changes_nothing(server, alice):
            for credits in BAD_CREDITS:
                refused(await calls.to_clock(alice, credits), "invalid_value", credits)

    async def test_refuses_unknown_keys_and_changes_nothing(self, server: Running) -> None:
        alice = await calls.funded(server, 10)
        async with changes_nothing(server, alice):
            for extra in [{"minutes": 1}, {"cost": 1.0}, {"currency": "RON"}]:
                refused(await calls.to_clock(alice, 1, **extra), "invalid_value", extra)


class TestClockToCredits:
    async def test_answers_the_record_both_balances_and_the_converted_minutes(self, server: Running) -> None:
        alice = await calls.funded(server, 100)
        ok(await calls.to_clock(alice, 30), *TO_CLOCK)
        answer = ok(await calls.to_credits(alice, 12), *TO_CREDITS)
        assert (answer["ewallet_credits"], answer["credit_clock"], answer["converted_minutes"]) == (82, 18.0, 12.0)
        assert type(answer["credit_clock"]) is float and type(answer["converted_minutes"]) is float
        data = await calls.record(alice, "conversion", answer["conversion_record"])
        assert (data["conversion_type"], data["minutes"], data["credits"]) == ("clock2credits", 12.0, 12)
        converted = answer["conversion_record"]
        assert await calls.records(alice, "conversion") == [converted - 1, converted]
        assert_clean(server)

    @pytest.mark.parametrize("given", [5, 5.0])
    async def test_takes_minutes_as_an_integer_or_a_float(self, server: Running, given: Any) -> None:
        alice = await calls.funded(server, 10)
        ok(await calls.to_clock(alice, 10), *TO_CLOCK)
        answer = ok(await calls.to_credits(alice, given), *TO_CREDITS)
        assert answer["converted_minutes"] == 5.0 and type(answer["converted_minutes"]) is float
        assert (answer["ewallet_credits"], answer["credit_clock"]) == (5, 5.0)

    async def test_refuses_minutes_that_are_not_whole_credits_at_rate_one_and_rounds_nothing(
        self, server: Running
    ) -> None:
        alice = await calls.funded(server, 10)
        ok(await calls.to_clock(alice, 10), *TO_CLOCK)
        async with changes_nothing(server, alice):
            for minutes in [2.5, 0.01, 1.99, 9.99]:
                refused(await calls.to_credits(alice, minutes), "invalid_value", minutes)

    async def test_refuses_more_minutes_than_the_clock_holds_and_changes_nothing(self, server: Running) -> None:
        alice = await calls.funded(server, 10)
        ok(await calls.to_clock(alice, 4), *TO_CLOCK)
        async with changes_nothing(server, alice):
            refused(await calls.to_credits(alice, 5), "insufficient_clock")
            refused(await calls.to_credits(alice, 10**9), "insufficient_clock")

    async def test_refuses_an_empty_clock(self, server: Running) -> None:
        alice = await calls.funded(server, 10)
        async with changes_nothing(server, alice):
            refused(await calls.to_credits(alice, 1), "insufficient_clock")

    async def test_refuses_minutes_out_of_range_or_of_the_wrong_type(self, server: Running) -> None:
        alice = await calls.funded(server, 10)
        ok(await calls.to_clock(alice, 10), *TO_CLOCK)
        async with changes_nothing(server, alice):
            for minutes in BAD_MINUTES:
                refused(await calls.to_credits(alice, minutes), "invalid_value", minutes)

    async def test_refuses_a_missing_minutes_field(self, server: Running) -> None:
        alice = await calls.funded(server, 10)
        async with changes_nothing(server, alice):
            refused(await alice.call(action="convert", convert="clock2credits"), "missing_field")


class TestConversionRates:
    async def test_gives_credits_times_the_rate_in_minutes(self, rated: Running) -> None:
        alice = await calls.funded(rated, 100)
        rate = rate_of(rated)
        answer = ok(await calls.to_clock(alice, 3), *TO_CLOCK)
        expected = float(3 * rate)
        assert answer["credit_clock"] == expected and type(answer["credit_clock"]) is float
        data = await calls.record(alice, "conversion", answer["conversion_record"])
        assert (data["minutes"], data["credits"]) == (expected, 3)
        assert await calls.minutes(alice) == expected
        assert_clean(rated)

    async def test_gives_minutes_divided_by_the_rate_in_whole_credits(self, rated: Running) -> None:
        alice = await calls.funded(rated, 100)
        rate = rate_of(rated)
        ok(await calls.to_clock(alice, 40), *TO_CLOCK)
        held = 40 * rate
        for credits in (1, 2, 7):
            minutes = credits * rate
            answer = ok(await calls.to_credits(alice, float(minutes)), *TO_CREDITS)
            held -= minutes
            assert answer["converted_minutes"] == float(minutes)
            assert answer["credit_clock"] == float(held)
            data = await calls.record(alice, "conversion", answer["conversion_record"])
            assert (data["conversion_type"], data["minutes"], data["credits"]) == (
                "clock2credits", float(minutes), credits,
            )  # fmt: skip
        assert await calls.credits(alice) == 60 + 10
        assert_clean(rated)

    async def test_refuses_minutes_worth_a_fraction_of_a_credit_and_changes_nothing(self, rated: Running) -> None:
        alice = await calls.funded(rated, 100)
        rate = rate_of(rated)
        ok(await calls.to_clock(alice, 40), *TO_CLOCK)
        fractions = [rate / 2, rate + Decimal("0.01"), rate * 3 - Decimal("0.01")]
        async with changes_nothing(rated, alice):
            for minutes in fractions:
                refused(await calls.to_credits(alice, float(minutes)), "invalid_value")

    async def test_refuses_short_balances_at_any_rate(self, rated: Running) -> None:
        alice = await calls.funded(rated, 2)
        ok(await calls.to_clock(alice, 1), *TO_CLOCK)
        async with changes_nothing(rated, alice):
            refused(await calls.to_clock(alice, 2), "insufficient_credits")
            refused(await calls.to_credits(alice, float(rate_of(rated) * 2)), "insufficient_clock")


class TestRateChangesMintNothing:
    """§11: clock2credits never returns more credits than were paid for the minutes converted
    back, whatever rate changes happened in between. The rule chosen: minutes go back at the
    current rate or at the highest rate the clock was ever loaded at, whichever pays fewer
    credits. Before: 100 credits -> clock at 1.00, rate lowered to 0.50, back: 200 credits."""

    async def test_a_lower_rate_after_a_restart_pays_back_what_was_paid(
        self, database_url: str, clock: ManualClock
    ) -> None:
        async with running_server(database_url, clock) as before:
            alice = await calls.funded(before, 100)
            ok(await calls.to_clock(alice, 100), *TO_CLOCK)
            session = (alice.client_id, alice.session_token)
        async with running_server(database_url, clock, conversion_rate=Decimal("0.50")) as after:
            again = await after.client()
            again.client_id, again.session_token = session
            back = ok(await calls.to_credits(again, 100.0), *TO_CREDITS)
            assert (back["ewallet_credits"], back["credit_clock"]) == (100, 0.0)
            assert await calls.credits(again) == 100
            assert_clean(after)

    async def test_a_higher_rate_pays_back_at_the_higher_rate(self, database_url: str, clock: ManualClock) -> None:
        async with running_server(database_url, clock) as before:
            alice = await calls.funded(before, 10)
            ok(await calls.to_clock(alice, 10), *TO_CLOCK)
            session = (alice.client_id, alice.session_token)
        async with running_server(database_url, clock, conversion_rate=Decimal("2.00")) as after:
            again = await after.client()
            again.client_id, again.session_token = session
            refused(await calls.to_credits(again, 3.0), "invalid_value")  # 1.5 credits
            back = ok(await calls.to_credits(again, 10.0), *TO_CREDITS)
            assert (back["ewallet_credits"], back["credit_clock"]) == (5, 0.0)
            assert_clean(after)

    async def test_minutes_loaded_at_two_rates_go_back_at_the_higher(self, sqlite_url: str, clock: ManualClock) -> None:
        async with running_server(sqlite_url, clock, conversion_rate=Decimal("2.00")) as first:
            alice = await calls.funded(first, 20)
            ok(await calls.to_clock(alice, 5), *TO_CLOCK)  # 10 minutes for 5 credits
            session = (alice.client_id, alice.session_token)
        async with running_server(sqlite_url, clock, conversion_rate=Decimal("1.00")) as second:
            again = await second.client()
            again.client_id, again.session_token = session
            ok(await calls.to_clock(again, 10), *TO_CLOCK)  # 10 minutes for 10 credits
            back = ok(await calls.to_credits(again, 20.0), *TO_CREDITS)
            # 15 credits were paid for the 20 minutes; at 2.00 they give back 10, never more.
            assert back["ewallet_credits"] == 5 + 10
            assert_clean(second)
