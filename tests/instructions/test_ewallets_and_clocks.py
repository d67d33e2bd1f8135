"""Credit ewallets and credit clocks: new, view, switch, unlink (§6, §7)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.answers import ok, refused
from tests.instructions.expect import ACCOUNT_DATA, CLOCK_DATA, EWALLET_DATA, call, refuses_bad_ids, shaped
from tests.support import LineClient, Running

NEW_EWALLET = "new=credit, credit=ewallet"
NEW_CLOCK = "new=credit, credit=clock"
VIEW_EWALLET = "view=credit, credit=ewallet"
VIEW_CLOCK = "view=credit, credit=clock"
SWITCH_EWALLET = "switch=credit, credit=ewallet"
SWITCH_CLOCK = "switch=credit, credit=clock"
UNLINK_EWALLET = "unlink=credit, credit=ewallet"
UNLINK_CLOCK = "unlink=credit, credit=clock"


async def account(client: LineClient) -> dict[str, Any]:
    return shaped(ok(await call(client, "view=account"), "account", "account_data")["account_data"], ACCOUNT_DATA)


async def ewallet(client: LineClient) -> dict[str, Any]:
    answer = ok(await call(client, VIEW_EWALLET), "ewallet", "ewallet_data")
    assert answer["ewallet"] == answer["ewallet_data"]["id"]
    return shaped(answer["ewallet_data"], EWALLET_DATA)


async def clock(client: LineClient) -> dict[str, Any]:
    answer = ok(await call(client, VIEW_CLOCK), "clock", "clock_data")
    assert answer["clock"] == answer["clock_data"]["id"]
    return shaped(answer["clock_data"], CLOCK_DATA)


async def new_ewallet(client: LineClient, **params: Any) -> dict[str, Any]:
    answer = ok(await call(client, NEW_EWALLET, **params), "ewallet", "ewallet_data")
    assert answer["ewallet"] == answer["ewallet_data"]["id"]
    return shaped(answer["ewallet_data"], EWALLET_DATA)


async def new_clock(client: LineClient, **params: Any) -> dict[str, Any]:
    answer = ok(await call(client, NEW_CLOCK, **params), "clock", "clock_data")
    assert answer["clock"] == answer["clock_data"]["id"]
    return shaped(answer["clock_data"], CLOCK_DATA)


class TestNewCreditEwallet:
    async def test_answers_the_id_and_the_ewallet_data_with_its_own_default_children(self, server: Running) -> None:
        client = await server.user()
        owner = await account(client)
        data = await new_ewallet(client)
        first = await ewallet(client)
        assert (data["user"], data["reference"], data["credits"]) == (owner["id"], "Credit EWallet", 0)
        assert data["create_date"] == data["write_date"]
        assert data["clock_archive"] == {str(data["clock"]): "Credit Clock"}
        assert data["transfer_sheet_archive"] == {str(data["transfer_sheet"]): "Transfer Sheet"}
        assert data["invoice_sheet_archive"] == {str(data["invoice_sheet"]): "Invoice Sheet"}
        assert data["clock"] != first["clock"]
        assert data["transfer_sheet"] != first["transfer_sheet"]

    async def test_is_listed_but_not_active(self, server: Running) -> None:
        client = await server.user()
        before = await account(client)
        data = await new_ewallet(client, reference="Savings")
        after = await account(client)
        assert after["ewallet"] == before["ewallet"]
        assert after["ewallet_archive"] == before["ewallet_archive"] | {str(data["id"]): "Savings"}
        assert (await ewallet(client))["id"] == before["ewallet"]

    async def test_moves_the_accounts_write_date(self, server: Running) -> None:
        client = await server.user()
        before = await account(client)
        server.clock.advance(5)
        await new_ewallet(client)
        assert (await account(client))["write_date"] != before["write_date"]

    async def test_trims_the_reference(self, server: Running) -> None:
        client = await server.user()
        assert (await new_ewallet(client, reference="  Savings  "))["reference"] == "Savings"

    @pytest.mark.parametrize("reference", ["", "   ", "r" * 256, 1, True, ["x"]])
    async def test_refuses_a_bad_reference(self, server: Running, reference: object) -> None:
        client = await server.user()
        before = await account(client)
        refused(await call(client, NEW_EWALLET, reference=reference), "invalid_value")
        assert await account(client) == before

    async def test_refuses_an_unknown_key(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, NEW_EWALLET, credits=5), "invalid_value")

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, NEW_EWALLET), "not_logged_in")


class TestNewCreditClock:
    async def test_answers_the_id_and_the_clock_data_under_the_active_ewallet(self, server: Running) -> None:
        client = await server.user()
        wallet = await ewallet(client)
        data = await new_clock(client, reference="Night Clock")
        assert (data["ewallet"], data["reference"], data["credit_clock"], data["clock_state"]) == (
            wallet["id"],
            "Night Clock",
            0.0,
            "inactive",
        )
        assert data["time_sheet_archive"] == {str(data["time_sheet"]): "Time Sheet"}
        assert data["conversion_sheet_archive"] == {str(data["conversion_sheet"]): "Conversion Sheet"}
        assert data["create_date"] == data["write_date"]

    async def test_is_listed_but_not_active_and_moves_the_ewallets_write_date(self, server: Running) -> None:
        client = await server.user()
        before = await ewallet(client)
        server.clock.advance(5)
        data = await new_clock(client)
        after = await ewallet(client)
        assert after["clock"] == before["clock"]
        assert after["clock_archive"] == before["clock_archive"] | {str(data["id"]): "Credit Clock"}
        assert after["write_date"] != before["write_date"]
        assert (await clock(client))["id"] == before["clock"]

    async def test_goes_under_the_active_ewallet(self, server: Running) -> None:
        client = await server.user()
        other = await new_ewallet(client)
        ok(await call(client, SWITCH_EWALLET, ewallet_id=other["id"]), "ewallet", "ewallet_data")
        assert (await new_clock(client))["ewallet"] == other["id"]

    @pytest.mark.parametrize("reference", ["", "   ", "r" * 256, 1, False])
    async def test_refuses_a_bad_reference(self, server: Running, reference: object) -> None:
        client = await server.user()
        refused(await call(client, NEW_CLOCK, reference=reference), "invalid_value")

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, NEW_CLOCK), "not_logged_in")


class TestViewCreditEwallet:
    async def test_answers_the_active_ewallet_with_exact_keys(self, server: Running) -> None:
        client = await server.user()
        data = await ewallet(client)
        assert data["id"] == (await account(client))["ewallet"]

    async def test_refuses_an_unknown_key(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, VIEW_EWALLET, ewallet_id=1), "invalid_value")

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, VIEW_EWALLET), "not_logged_in")


class TestViewCreditClock:
    async def test_answers_the_active_clock_of_the_active_ewallet_with_exact_keys(self, server: Running) -> None:
        client = await server.user()
        data = await clock(client)
        assert data["id"] == (await ewallet(client))["clock"]

    async def test_refuses_an_unknown_key(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, VIEW_CLOCK, clock_id=1), "invalid_value")

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, VIEW_CLOCK), "not_logged_in")


class TestSwitchCreditEwallet:
    async def test_makes_it_active_and_answers_its_id_and_data(self, server: Running) -> None:
        client = await server.user()
        other = await new_ewallet(client)
        answer = ok(await call(client, SWITCH_EWALLET, ewallet_id=other["id"]), "ewallet", "ewallet_data")
        assert answer["ewallet"] == other["id"]
        assert shaped(answer["ewallet_data"], EWALLET_DATA) == other
        assert (await account(client))["ewallet"] == other["id"]
        assert (await ewallet(client))["id"] == other["id"]
        assert (await clock(client))["id"] == other["clock"]

    async def test_shows_in_the_session_data(self, server: Running) -> None:
        client = await server.user()
        other = await new_ewallet(client)
        ok(await call(client, SWITCH_EWALLET, ewallet_id=other["id"]), "ewallet", "ewallet_data")
        answer = ok(await call(client, "switch=account", account=client.email), "account", "session_data")  # type: ignore[attr-defined]
        assert answer["session_data"]["session_credit_ewallet"] == other["id"]

    async def test_moves_the_accounts_write_date(self, server: Running) -> None:
        client = await server.user()
        other = await new_ewallet(client)
        before = await account(client)
        server.clock.advance(5)
        ok(await call(client, SWITCH_EWALLET, ewallet_id=other["id"]), "ewallet", "ewallet_data")
        assert (await account(client))["write_date"] != before["write_date"]

    async def test_switching_to_the_active_one_changes_nothing(self, server: Running) -> None:
        client = await server.user()
        before = await account(client)
        server.clock.advance(5)
        answer = ok(await call(client, SWITCH_EWALLET, ewallet_id=before["ewallet"]), "ewallet", "ewallet_data")
        assert answer["ewallet"] == before["ewallet"]
        assert await account(client) == before

    async def test_refuses_another_accounts_ewallet(self, server: Running) -> None:
        client = await server.user()
        other = await server.user()
        theirs = await ewallet(other)
        before = await account(client)
        refused(await call(client, SWITCH_EWALLET, ewallet_id=theirs["id"]), "forbidden")
        assert await account(client) == before

    async def test_refuses_a_missing_ewallet(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, SWITCH_EWALLET, ewallet_id=999_999), "not_found")

    async def test_refuses_an_unlinked_ewallet(self, any_server: Running) -> None:
        client = await any_server.user()
        other = await new_ewallet(client)
        ok(await call(client, UNLINK_EWALLET, ewallet_id=other["id"]), "credit_ewallet")
        refused(await call(client, SWITCH_EWALLET, ewallet_id=other["id"]), "not_found")

    async def test_refuses_an_id_that_is_not_a_positive_integer(self, server: Running) -> None:
        client = await server.user()
        await refuses_bad_ids(client, SWITCH_EWALLET, "ewallet_id")

    async def test_refuses_a_missing_id(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, SWITCH_EWALLET), "missing_field")

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, SWITCH_EWALLET, ewallet_id=1), "not_logged_in")


class TestSwitchCreditClock:
    async def test_makes_it_active_and_answers_its_id_and_data(self, server: Running) -> None:
        client = await server.user()
        data = await new_clock(client)
        answer = ok(await call(client, SWITCH_CLOCK, clock_id=data["id"]), "clock", "clock_data")
        assert answer["clock"] == data["id"]
        assert shaped(answer["clock_data"], CLOCK_DATA) == data
        assert (await ewallet(client))["clock"] == data["id"]
        assert (await clock(client))["id"] == data["id"]

    async def test_moves_the_ewallets_write_date(self, server: Running) -> None:
        client = await server.user()
        data = await new_clock(client)
        before = await ewallet(client)
        server.clock.advance(5)
        ok(await call(client, SWITCH_CLOCK, clock_id=data["id"]), "clock", "clock_data")
        assert (await ewallet(client))["write_date"] != before["write_date"]

    async def test_switching_to_the_active_one_changes_nothing(self, server: Running) -> None:
        client = await server.user()
        before = await ewallet(client)
        server.clock.advance(5)
        ok(await call(client, SWITCH_CLOCK, clock_id=before["clock"]), "clock", "clock_data")
        assert await ewallet(client) == before

    async def test_switching_a_clock_of_another_ewallet_does_not_switch_the_ewallet(self, server: Running) -> None:
        client = await server.user()
        first = await ewallet(client)
        second = await new_ewallet(client)
        ok(await call(client, SWITCH_EWALLET, ewallet_id=second["id"]), "ewallet", "ewallet_data")
        extra = await new_clock(client)  # a second clock in the second ewallet
        ok(await call(client, SWITCH_EWALLET, ewallet_id=first["id"]), "ewallet", "ewallet_data")
        answer = ok(await call(client, SWITCH_CLOCK, clock_id=extra["id"]), "clock", "clock_data")
        assert answer["clock_data"]["ewallet"] == second["id"]
        assert (await account(client))["ewallet"] == first["id"]
        assert (await clock(client))["id"] == first["clock"]
        switched = ok(await call(client, SWITCH_EWALLET, ewallet_id=second["id"]), "ewallet", "ewallet_data")
        assert switched["ewallet_data"]["clock"] == extra["id"]

    async def test_refuses_another_accounts_clock(self, server: Running) -> None:
        client = await server.user()
        theirs = await clock(await server.user())
        refused(await call(client, SWITCH_CLOCK, clock_id=theirs["id"]), "forbidden")

    async def test_refuses_a_missing_clock(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, SWITCH_CLOCK, clock_id=999_999), "not_found")

    async def test_refuses_an_unlinked_clock_and_the_clocks_of_an_unlinked_ewallet(self, any_server: Running) -> None:
        client = await any_server.user()
        hidden = await new_clock(client)
        ok(await call(client, UNLINK_CLOCK, clock_id=hidden["id"]), "credit_clock")
        refused(await call(client, SWITCH_CLOCK, clock_id=hidden["id"]), "not_found")
        wallet = await new_ewallet(client)
        ok(await call(client, UNLINK_EWALLET, ewallet_id=wallet["id"]), "credit_ewallet")
        refused(await call(client, SWITCH_CLOCK, clock_id=wallet["clock"]), "not_found")

    async def test_refuses_an_id_that_is_not_a_positive_integer(self, server: Running) -> None:
        client = await server.user()
        await refuses_bad_ids(client, SWITCH_CLOCK, "clock_id")

    async def test_refuses_a_missing_id(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, SWITCH_CLOCK), "missing_field")

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, SWITCH_CLOCK, clock_id=1), "not_logged_in")


class TestUnlinkCreditEwallet:
    async def test_answers_the_id_and_hides_the_ewallet(self, any_server: Running) -> None:
        client = await any_server.user()
        other = await new_ewallet(client)
        answer = ok(await call(client, UNLINK_EWALLET, ewallet_id=other["id"]), "credit_ewallet")
        assert answer["credit_ewallet"] == other["id"]
        assert str(other["id"]) not in (await account(client))["ewallet_archive"]
        refused(await call(client, UNLINK_EWALLET, ewallet_id=other["id"]), "not_found")

    async def test_the_last_one_is_counted_among_visible_ewallets_only(self, any_server: Running) -> None:
        client = await any_server.user()
        first = (await account(client))["ewallet"]
        other = await new_ewallet(client)
        ok(await call(client, UNLINK_EWALLET, ewallet_id=first), "credit_ewallet")
        refused(await call(client, UNLINK_EWALLET, ewallet_id=other["id"]), "last_resource")

    async def test_unlinking_another_one_keeps_the_active_one(self, any_server: Running) -> None:
        client = await any_server.user()
        first = (await account(client))["ewallet"]
        other = await new_ewallet(client)
        ok(await call(client, UNLINK_EWALLET, ewallet_id=other["id"]), "credit_ewallet")
        assert (await account(client))["ewallet"] == first

    async def test_moves_the_accounts_write_date(self, any_server: Running) -> None:
        client = await any_server.user()
        other = await new_ewallet(client)
        before = await account(client)
        any_server.clock.advance(5)
        ok(await call(client, UNLINK_EWALLET, ewallet_id=other["id"]), "credit_ewallet")
        assert (await account(client))["write_date"] != before["write_date"]

    async def test_refuses_an_ewallet_holding_credits(self, any_server: Running) -> None:
        client = await any_server.user()
        funded = (await account(client))["ewallet"]
        assert (await call(client, "supply=credits", credits=5))["failed"] is False
        await new_ewallet(client)
        before = await account(client)
        refused(await call(client, UNLINK_EWALLET, ewallet_id=funded), "invalid_value")
        assert await account(client) == before

    async def test_refuses_an_ewallet_whose_clock_holds_minutes_or_runs_a_timer(self, any_server: Running) -> None:
        client = await any_server.user()
        funded = (await account(client))["ewallet"]
        assert (await call(client, "supply=credits", credits=5))["failed"] is False
        assert (await call(client, "convert=credits2clock", credits=5))["failed"] is False
        other = await new_ewallet(client)
        refused(await call(client, UNLINK_EWALLET, ewallet_id=funded), "invalid_value")
        assert (await call(client, "start=clock_timer"))["failed"] is False
        refused(await call(client, UNLINK_EWALLET, ewallet_id=funded), "timer_state")
        refused(await call(client, SWITCH_EWALLET, ewallet_id=other["id"]), "timer_state")
        assert (await account(client))["ewallet"] == funded

    async def test_refuses_another_accounts_ewallet(self, any_server: Running) -> None:
        client = await any_server.user()
        other = await any_server.user()
        await new_ewallet(other)
        theirs = await account(other)
        refused(await call(client, UNLINK_EWALLET, ewallet_id=theirs["ewallet"]), "forbidden")
        assert await account(other) == theirs

    async def test_refuses_a_missing_ewallet(self, any_server: Running) -> None:
        client = await any_server.user()
        refused(await call(client, UNLINK_EWALLET, ewallet_id=999_999), "not_found")

    async def test_refuses_an_id_that_is_not_a_positive_integer(self, server: Running) -> None:
        client = await server.user()
        await refuses_bad_ids(client, UNLINK_EWALLET, "ewallet_id")

    async def test_refuses_a_missing_id(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, UNLINK_EWALLET), "missing_field")

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, UNLINK_EWALLET, ewallet_id=1), "not_logged_in")


class TestUnlinkCreditClock:
    async def test_answers_the_id_and_hides_the_clock(self, any_server: Running) -> None:
        client = await any_server.user()
        data = await new_clock(client)
        answer = ok(await call(client, UNLINK_CLOCK, clock_id=data["id"]), "credit_clock")
        assert answer["credit_clock"] == data["id"]
        assert str(data["id"]) not in (await ewallet(client))["clock_archive"]
        refused(await call(client, UNLINK_CLOCK, clock_id=data["id"]), "not_found")

    async def test_moves_the_ewallets_write_date(self, any_server: Running) -> None:
        client = await any_server.user()
        data = await new_clock(client)
        before = await ewallet(client)
        any_server.clock.advance(5)
        ok(await call(client, UNLINK_CLOCK, clock_id=data["id"]), "credit_clock")
        after = await ewallet(client)
        assert after["write_date"] != before["write_date"]
        assert after["clock"] == before["clock"]

    async def test_refuses_a_clock_holding_minutes_or_running_a_timer(self, any_server: Running) -> None:
        client = await any_server.user()
        funded = (await clock(client))["id"]
        spare = await new_clock(client)
        assert (await call(client, "supply=credits", credits=5))["failed"] is False
        assert (await call(client, "convert=credits2clock", credits=5))["failed"] is False
        refused(await call(client, UNLINK_CLOCK, clock_id=funded), "invalid_value")
        assert (await call(client, "start=clock_timer"))["failed"] is False
        refused(await call(client, UNLINK_CLOCK, clock_id=funded), "timer_state")
        refused(await call(client, SWITCH_CLOCK, clock_id=spare["id"]), "timer_state")
        assert (await clock(client))["id"] == funded

    async def test_refuses_another_accounts_clock(self, any_server: Running) -> None:
        client = await any_server.user()
        other = await any_server.user()
        await new_clock(other)
        theirs = await ewallet(other)
        refused(await call(client, UNLINK_CLOCK, clock_id=theirs["clock"]), "forbidden")
        assert await ewallet(other) == theirs

    async def test_refuses_a_missing_clock(self, any_server: Running) -> None:
        client = await any_server.user()
        refused(await call(client, UNLINK_CLOCK, clock_id=999_999), "not_found")

    async def test_refuses_an_id_that_is_not_a_positive_integer(self, server: Running) -> None:
        client = await server.user()
        await refuses_bad_ids(client, UNLINK_CLOCK, "clock_id")

    async def test_refuses_a_missing_id(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, UNLINK_CLOCK), "missing_field")

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, UNLINK_CLOCK, clock_id=1), "not_logged_in")
