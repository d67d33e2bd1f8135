"""Supply credits (§7 "Credit operations", §8): the user instruction, the system instruction,
their records on both sides of the ledger, and every refusal leaving the books as they were."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from ewallet.clock import ManualClock
from ewallet.storage.database import session_factory
from ewallet.storage.models import TransferRecord
from tests.answers import ok, refused
from tests.money import calls
from tests.money.books import assert_clean, books, changes_nothing
from tests.money.calls import BAD_CREDITS, SUPPLIED, is_id
from tests.support import Running, running_server

SYSTEM = "ewallet-system"


def system_rows(running: Running) -> list[tuple[int, str, int | None, str, str]]:
    """(id, type, sheet id, from, to) of every transfer row that lives in no sheet."""
    with session_factory(running.app.engine).begin() as db:
        query = select(
            TransferRecord.id,
            TransferRecord.transfer_type,
            TransferRecord.sheet_id,
            TransferRecord.transfer_from,
            TransferRecord.transfer_to,
        ).where(TransferRecord.ewallet_id.is_(None))
        return [tuple(row) for row in db.execute(query.order_by(TransferRecord.id))]  # type: ignore[misc]


class TestSupply:
    async def test_answers_the_supplied_credits_the_new_balance_and_the_buyers_record_ids(
        self, server: Running
    ) -> None:
        alice = await server.user()
        first = ok(await calls.supply(alice, 100), *SUPPLIED)
        second = ok(await calls.supply(alice, 25), *SUPPLIED)
        assert first["supplied_credits"] == 100 and first["ewallet_credits"] == 100
        assert second["supplied_credits"] == 25 and second["ewallet_credits"] == 125
        for answer in (first, second):
            assert all(is_id(answer[key]) for key in ("transfer_record", "invoice_record"))
            assert type(answer["ewallet_credits"]) is int
        assert await calls.credits(alice) == 125

    async def test_writes_the_system_row_first_and_the_buyers_incoming_row_right_after_it(
        self, server: Running
    ) -> None:
        alice = await server.user()
        answer = ok(await calls.supply(alice, 40), *SUPPLIED)
        incoming = answer["transfer_record"]
        assert system_rows(server) == [(incoming - 1, "supply", None, SYSTEM, alice.email)]
        data = await calls.record(alice, "transfer", incoming)
        assert data["transfer_type"] == "incoming"
        assert (data["transfer_from"], data["transfer_to"], data["credits"]) == (SYSTEM, alice.email, 40)
        assert data["transfer_sheet"] == (await calls.ewallet(alice))["transfer_sheet"]
        assert data["reference"] == "Transfer Sheet Record"
        assert calls.is_timestamp(data["create_date"]) and data["create_date"] == data["write_date"]
        assert set(data) == {
            "id", "transfer_sheet", "reference", "create_date", "write_date",
            "transfer_type", "transfer_from", "transfer_to", "credits",
        }  # fmt: skip

    async def test_never_lets_any_user_see_or_hide_the_system_row(self, server: Running) -> None:
        alice, bob = await server.user(), await server.user()
        system_row = ok(await calls.supply(alice, 40), *SUPPLIED)["transfer_record"] - 1
        for client in (alice, bob):
            refused(await calls.view_record(client, "transfer", system_row), "not_found")
            refused(await calls.unlink_record(client, "transfer", system_row), "not_found")
            assert system_row not in await calls.records(client, "transfer")
        assert system_rows(server)[0][0] == system_row

    async def test_writes_an_invoice_whose_seller_is_the_system_name(self, server: Running) -> None:
        alice = await server.user()
        plain = ok(await calls.supply(alice, 10), *SUPPLIED)
        priced = ok(await calls.supply(alice, 20, currency="EUR", cost=12.5, notes="  top-up  "), *SUPPLIED)
        data = await calls.record(alice, "invoice", plain["invoice_record"])
        shown = {key: data[key] for key in ("credits", "currency", "cost", "seller", "notes", "reference")}
        assert shown == {
            "credits": 10,
            "currency": "RON",
            "cost": 0.0,
            "seller": SYSTEM,
            "notes": None,
            "reference": "Invoice Sheet Record",
        }
        data = await calls.record(alice, "invoice", priced["invoice_record"])
        assert (data["credits"], data["currency"], data["cost"], data["seller"]) == (20, "EUR", 12.5, SYSTEM)
        assert data["notes"] == "top-up"
        assert type(data["cost"]) is float
        assert data["invoice_sheet"] == (await calls.ewallet(alice))["invoice_sheet"]
        assert set(data) == {
            "id", "invoice_sheet", "reference", "create_date", "write_date",
            "credits", "currency", "cost", "seller", "notes",
        }  # fmt: skip

    async def test_lists_the_incoming_row_and_the_invoice_in_the_buyers_active_sheets_only(
        self, server: Running
    ) -> None:
        alice, bob = await server.user(), await server.user()
        answer = ok(await calls.supply(alice, 10), *SUPPLIED)
        assert await calls.records(alice, "transfer") == [answer["transfer_record"]]
        assert await calls.records(alice, "invoice") == [answer["invoice_record"]]
        assert await calls.records(bob, "transfer") == []
        assert await calls.records(bob, "invoice") == []
        refused(await calls.view_record(bob, "transfer", answer["transfer_record"]), "forbidden")
        refused(await calls.view_record(bob, "invoice", answer["invoice_record"]), "forbidden")

    async def test_credits_the_active_ewallet_and_its_active_sheets(self, server: Running) -> None:
        alice = await server.user()
        first_ewallet = await calls.ewallet(alice)
        created = ok(await alice.call(action="new", new="credit", credit="ewallet"), "ewallet", "ewallet_data")
        ok(await alice.call(action="switch", switch="credit", credit="ewallet", ewallet_id=created["ewallet"]),
           "ewallet", "ewallet_data")  # fmt: skip
        answer = ok(await calls.supply(alice, 7), *SUPPLIED)
        assert answer["ewallet_credits"] == 7
        data = await calls.record(alice, "transfer", answer["transfer_record"])
        assert data["transfer_sheet"] == created["ewallet_data"]["transfer_sheet"]
        ok(await alice.call(action="switch", switch="credit", credit="ewallet", ewallet_id=first_ewallet["id"]),
           "ewallet", "ewallet_data")  # fmt: skip
        assert await calls.credits(alice) == 0

    async def test_accepts_exactly_the_maximum_supply(self, server: Running) -> None:
        alice = await server.user()
        assert ok(await calls.supply(alice, 1_000_000), *SUPPLIED)["ewallet_credits"] == 1_000_000

    async def test_refuses_more_than_the_maximum_supply_and_changes_nothing(self, server: Running) -> None:
        alice = await calls.funded(server, 5)
        async with changes_nothing(server, alice):
            refused(await calls.supply(alice, 1_000_001), "invalid_value")

    async def test_follows_a_configured_maximum_supply(self, sqlite_url: str, clock: ManualClock) -> None:
        async with running_server(sqlite_url, clock, max_supply=100) as running:
            alice = await running.user()
            async with changes_nothing(running, alice):
                refused(await calls.supply(alice, 101), "invalid_value")
                refused(await calls.system_supply(alice, alice.email, 101), "invalid_value")
            ok(await calls.supply(alice, 100), *SUPPLIED)

    async def test_refuses_credits_that_are_not_an_integer_in_range_and_changes_nothing(self, server: Running) -> None:
        alice = await calls.funded(server, 5)
        async with changes_nothing(server, alice):
            for credits in BAD_CREDITS:
                refused(await calls.supply(alice, credits), "invalid_value", credits)

    async def test_refuses_a_missing_credits_field(self, server: Running) -> None:
        alice = await server.user()
        async with changes_nothing(server, alice):
            refused(await alice.call(action="supply", supply="credits"), "missing_field")

    async def test_trims_the_currency(self, server: Running) -> None:
        alice = await server.user()
        answer = ok(await calls.supply(alice, 5, currency=" EUR\t"), *SUPPLIED)
        assert (await calls.record(alice, "invoice", answer["invoice_record"]))["currency"] == "EUR"

    async def test_refuses_a_currency_that_is_not_three_capital_letters(self, server: Running) -> None:
        alice = await calls.funded(server, 5)
        async with changes_nothing(server, alice):
            for currency in ["eur", "Eur", "EURO", "EU", "E1R", "", " ", "ÉUR", 978, None, True]:
                refused(await calls.supply(alice, 5, currency=currency), "invalid_value", currency)

    async def test_refuses_a_cost_that_is_negative_or_has_three_decimals(self, server: Running) -> None:
        alice = await calls.funded(server, 5)
        async with changes_nothing(server, alice):
            for cost in [-0.01, -1, 1.234, 0.001, "5", True, None, 10**15]:
                refused(await calls.supply(alice, 5, cost=cost), "invalid_value", cost)

    async def test_keeps_a_cost_with_up_to_two_decimals_exactly(self, server: Running) -> None:
        alice = await server.user()
        for cost, shown in [
            (0, 0.0),
            (7, 7.0),
            (0.01, 0.01),
            (12.5, 12.5),
            (99.99, 99.99),
            (123456789.01, 123456789.01),
        ]:
            answer = ok(await calls.supply(alice, 5, cost=cost), *SUPPLIED)
            assert (await calls.record(alice, "invoice", answer["invoice_record"]))["cost"] == shown

    async def test_refuses_unknown_keys_and_changes_nothing(self, server: Running) -> None:
        alice = await calls.funded(server, 5)
        async with changes_nothing(server, alice):
            for extra in [{"account": "x@example.com"}, {"seller": "me"}, {"minutes": 1}, {"Credits": 5}]:
                refused(await calls.supply(alice, 5, **extra), "invalid_value", extra)

    async def test_keeps_the_books_clean(self, server: Running) -> None:
        alice = await server.user()
        for amount in (1, 2, 3):
            ok(await calls.supply(alice, amount), *SUPPLIED)
        report = assert_clean(server)
        assert report.supplied == 6 and report.credits_held == 6


class TestSystemSupply:
    async def test_supplies_an_account_by_email_with_the_same_records_as_a_user_supply(self, server: Running) -> None:
        alice = await server.user()
        operator = await server.client()
        answer = ok(await calls.system_supply(operator, alice.email.upper(), 30, cost=9.99, currency="USD"), *SUPPLIED)
        assert answer["supplied_credits"] == 30 and answer["ewallet_credits"] == 30
        assert await calls.credits(alice) == 30
        assert await calls.records(alice, "transfer") == [answer["transfer_record"]]
        invoice = await calls.record(alice, "invoice", answer["invoice_record"])
        assert (invoice["seller"], invoice["cost"], invoice["currency"]) == (SYSTEM, 9.99, "USD")
        assert system_rows(server) == [(answer["transfer_record"] - 1, "supply", None, SYSTEM, alice.email)]
        assert_clean(server)

    async def test_needs_the_system_key(self, server: Running) -> None:
        alice = await server.user()
        operator = await server.client()
        async with changes_nothing(server, alice):
            refused(await calls.system_supply(operator, alice.email, 5, system_key="x" * 40), "system_key_required")

    async def test_refuses_an_unknown_account_and_one_pending_deletion(self, server: Running) -> None:
        alice = await server.user()
        leaving = await server.user()
        ok(await leaving.call(action="unlink", unlink="account"), "account")
        operator = await server.client()
        async with changes_nothing(server, alice):
            refused(await calls.system_supply(operator, "nobody@example.com", 5), "not_found")
            refused(await calls.system_supply(operator, leaving.email, 5), "not_found")
            refused(await calls.system_supply(operator, SYSTEM, 5), "not_found")

    async def test_refuses_bad_credits(self, server: Running) -> None:
        alice = await server.user()
        operator = await server.client()
        async with changes_nothing(server, alice):
            for credits in BAD_CREDITS:
                refused(await calls.system_supply(operator, alice.email, credits), "invalid_value", credits)


class TestUserSupplySwitchedOff:
    async def test_refuses_user_supply_but_the_system_instruction_still_supplies(
        self, sqlite_url: str, clock: ManualClock
    ) -> None:
        async with running_server(sqlite_url, clock, user_supply=False) as running:
            alice = await running.user()
            async with changes_nothing(running, alice):
                answer = await calls.supply(alice, 10)
                assert answer["failed"] is True and answer["code"] == "forbidden", answer
            operator = await running.client()
            ok(await calls.system_supply(operator, alice.email, 10), *SUPPLIED)
            assert await calls.credits(alice) == 10
            assert books(running).rows["transfer"] == 2
            assert_clean(running)

    async def test_leaves_pay_and_convert_working(self, sqlite_url: str, clock: ManualClock) -> None:
        async with running_server(sqlite_url, clock, user_supply=False, conversion_rate=Decimal("1.00")) as running:
            alice, bob = await running.user(), await running.user()
            operator = await running.client()
            ok(await calls.system_supply(operator, alice.email, 10), *SUPPLIED)
            assert (await calls.pay(alice, bob.email, 4))["failed"] is False
            assert (await calls.to_clock(alice, 3))["failed"] is False
            assert (await calls.credits(alice), await calls.credits(bob), await calls.minutes(alice)) == (3, 4, 3.0)
