"""Pay and transfer (§7 "Credit operations"): the payer's row first, then the partner's
`incoming` row; an invoice for the payer only; and every refusal changing nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.answers import ok, refused
from tests.money import calls
from tests.money.books import assert_clean, books, changes_nothing, tamper
from tests.money.calls import BAD_CREDITS, PAID, TRANSFERRED, is_id
from tests.support import LineClient, Running


async def move(kind: str, client: LineClient, partner: str, credits: Any, **more: Any) -> dict[str, Any]:
    if kind == "pay":
        return await calls.pay(client, partner, credits, **more)
    return await calls.transfer(client, partner, credits, **more)


class TestPay:
    async def test_answers_the_partner_the_new_balance_and_the_payers_record_ids(self, server: Running) -> None:
        alice, bob = await calls.funded(server, 100), await server.user()
        answer = ok(await calls.pay(alice, bob.email.upper(), 30), *PAID)
        assert answer["payed"] == bob.email
        assert (answer["ewallet_credits"], answer["spent_credits"]) == (70, 30)
        assert is_id(answer["transfer_record"]) and is_id(answer["invoice_record"])
        assert (await calls.credits(alice), await calls.credits(bob)) == (70, 30)

    async def test_writes_the_payment_row_for_the_payer_then_the_incoming_row_for_the_partner(
        self, server: Running
    ) -> None:
        alice, bob = await calls.funded(server, 100), await server.user()
        answer = ok(await calls.pay(alice, bob.email, 30), *PAID)
        payment = await calls.record(alice, "transfer", answer["transfer_record"])
        assert (payment["transfer_type"], payment["transfer_from"], payment["transfer_to"], payment["credits"]) == (
            "payment", alice.email, bob.email, 30,
        )  # fmt: skip
        assert payment["transfer_sheet"] == (await calls.ewallet(alice))["transfer_sheet"]
        [incoming_id] = await calls.records(bob, "transfer")
        assert incoming_id == answer["transfer_record"] + 1
        incoming = await calls.record(bob, "transfer", incoming_id)
        assert (incoming["transfer_type"], incoming["transfer_from"], incoming["transfer_to"]) == (
            "incoming", alice.email, bob.email,
        )  # fmt: skip
        assert incoming["credits"] == 30
        assert incoming["transfer_sheet"] == (await calls.ewallet(bob))["transfer_sheet"]
        refused(await calls.view_record(alice, "transfer", incoming_id), "forbidden")
        refused(await calls.view_record(bob, "transfer", answer["transfer_record"]), "forbidden")

    async def test_writes_an_invoice_for_the_payer_and_none_for_the_partner(self, server: Running) -> None:
        alice, bob = await calls.funded(server, 100), await server.user()
        invoices = books(server).rows["invoice"]
        answer = ok(await calls.pay(alice, bob.email, 30, currency="EUR", cost=4.5, notes="coffee"), *PAID)
        invoice = await calls.record(alice, "invoice", answer["invoice_record"])
        shown = {key: invoice[key] for key in ("credits", "currency", "cost", "seller", "notes")}
        assert shown == {"credits": 30, "currency": "EUR", "cost": 4.5, "seller": bob.name, "notes": "coffee"}
        assert answer["invoice_record"] in await calls.records(alice, "invoice")
        assert await calls.records(bob, "invoice") == []
        assert books(server).rows["invoice"] == invoices + 1

    async def test_names_the_seller_as_the_partner_was_called_at_payment_time(self, server: Running) -> None:
        alice, bob = await calls.funded(server, 100), await server.user()
        before = ok(await calls.pay(alice, bob.email, 1), *PAID)
        renamed = await bob.call(action="edit", edit="account", user_name="Robert")
        assert renamed["failed"] is False, renamed
        after = ok(await calls.pay(alice, bob.email, 1), *PAID)
        assert (await calls.record(alice, "invoice", before["invoice_record"]))["seller"] == bob.name
        assert (await calls.record(alice, "invoice", after["invoice_record"]))["seller"] == "Robert"

    async def test_pays_into_the_partners_active_ewallet_and_active_transfer_sheet(self, server: Running) -> None:
        alice, bob = await calls.funded(server, 100), await server.user()
        second = ok(await bob.call(action="new", new="credit", credit="ewallet"), "ewallet", "ewallet_data")
        ok(await bob.call(action="switch", switch="credit", credit="ewallet", ewallet_id=second["ewallet"]),
           "ewallet", "ewallet_data")  # fmt: skip
        fresh = ok(await bob.call(action="new", new="transfer", transfer="list"), "transfer_sheet", "sheet_data")
        ok(await bob.call(action="switch", switch="transfer_sheet", sheet_id=fresh["transfer_sheet"]),
           "transfer_sheet", "sheet_data")  # fmt: skip
        ok(await calls.pay(alice, bob.email, 12), *PAID)
        assert await calls.credits(bob) == 12
        [incoming] = await calls.records(bob, "transfer")
        assert (await calls.record(bob, "transfer", incoming))["transfer_sheet"] == fresh["transfer_sheet"]

    async def test_spends_the_whole_balance_down_to_zero(self, server: Running) -> None:
        alice, bob = await calls.funded(server, 10), await server.user()
        assert ok(await calls.pay(alice, bob.email, 10), *PAID)["ewallet_credits"] == 0
        assert_clean(server)


@pytest.mark.parametrize("kind", ["pay", "transfer"])
class TestRefusedMovements:
    async def test_refuses_an_overdraft_and_changes_nothing(self, server: Running, kind: str) -> None:
        alice, bob = await calls.funded(server, 10), await server.user()
        async with changes_nothing(server, alice, bob):
            refused(await move(kind, alice, bob.email, 11), "insufficient_credits")
            refused(await move(kind, bob, alice.email, 1), "insufficient_credits")

    async def test_refuses_bad_credits_and_changes_nothing(self, server: Running, kind: str) -> None:
        alice, bob = await calls.funded(server, 10), await server.user()
        async with changes_nothing(server, alice, bob):
            for credits in BAD_CREDITS:
                refused(await move(kind, alice, bob.email, credits), "invalid_value", credits)

    async def test_refuses_a_missing_credits_field(self, server: Running, kind: str) -> None:
        alice, bob = await calls.funded(server, 10), await server.user()
        route = {"action": "pay", "pay": bob.email} if kind == "pay" else {
            "action": "transfer", "transfer": "credits", "transfer_to": bob.email,
        }  # fmt: skip
        async with changes_nothing(server, alice, bob):
            refused(await alice.call(**route), "missing_field")

    async def test_refuses_an_unknown_partner_as_not_found(self, server: Running, kind: str) -> None:
        alice = await calls.funded(server, 10)
        async with changes_nothing(server, alice):
            refused(await move(kind, alice, "nobody@example.com", 1), "not_found")

    async def test_refuses_a_partner_pending_deletion_as_not_found(self, server: Running, kind: str) -> None:
        alice, leaving = await calls.funded(server, 10), await server.user()
        ok(await leaving.call(action="unlink", unlink="account"), "account")
        async with changes_nothing(server, alice):
            refused(await move(kind, alice, leaving.email, 1), "not_found")

    async def test_refuses_the_system_side_as_not_found(self, server: Running, kind: str) -> None:
        alice = await calls.funded(server, 10)
        async with changes_nothing(server, alice):
            for name in ["ewallet-system", "EWALLET-SYSTEM", " ewallet-system "]:
                refused(await move(kind, alice, name, 1), "not_found", name)

    async def test_refuses_oneself_in_any_letter_case_as_invalid_value(self, server: Running, kind: str) -> None:
        alice = await calls.funded(server, 10)
        async with changes_nothing(server, alice):
            refused(await move(kind, alice, alice.email, 1), "invalid_value")
            refused(await move(kind, alice, alice.email.upper(), 1), "invalid_value")
            refused(await move(kind, alice, alice.email.title(), 100), "invalid_value")

    async def test_refuses_unknown_keys_and_changes_nothing(self, server: Running, kind: str) -> None:
        alice, bob = await calls.funded(server, 10), await server.user()
        async with changes_nothing(server, alice, bob):
            for extra in [{"idempotency": "k"}, {"account": "x@example.com"}, {"minutes": 1}]:
                refused(await move(kind, alice, bob.email, 1, **extra), "invalid_value", extra)

    async def test_refuses_a_partner_that_is_not_a_non_empty_string(self, server: Running, kind: str) -> None:
        alice = await calls.funded(server, 10)
        async with changes_nothing(server, alice):
            for partner in [None, 5, "", "   ", True, ["x@example.com"]]:
                refused(await move(kind, alice, partner, 1), "invalid_value", partner)

    async def test_refuses_to_push_the_partner_past_the_largest_balance(self, server: Running, kind: str) -> None:
        alice, bob = await calls.funded(server, 10), await server.user()
        bob_ewallet = (await calls.ewallet(bob))["id"]
        tamper(server.app.engine, "UPDATE credit_ewallets SET credits = :n WHERE id = :id", n=2**53 - 5, id=bob_ewallet)
        async with changes_nothing(server, alice, bob):
            refused(await move(kind, alice, bob.email, 6), "invalid_value")
        assert (await move(kind, alice, bob.email, 4))["failed"] is False
        assert await calls.credits(bob) == 2**53 - 1


class TestPayRefusals:
    async def test_refuses_a_bad_currency_or_cost_and_changes_nothing(self, server: Running) -> None:
        alice, bob = await calls.funded(server, 10), await server.user()
        async with changes_nothing(server, alice, bob):
            for extra in [{"currency": "usd"}, {"currency": "US"}, {"cost": -0.5}, {"cost": 0.125}, {"cost": "1"}]:
                refused(await calls.pay(alice, bob.email, 1, **extra), "invalid_value", extra)


class TestTransfer:
    async def test_answers_the_partner_the_new_balance_and_the_senders_record(self, server: Running) -> None:
        alice, bob = await calls.funded(server, 100), await server.user()
        answer = ok(await calls.transfer(alice, bob.email.upper(), 45), *TRANSFERRED)
        assert answer["transfered_to"] == bob.email
        assert (answer["ewallet_credits"], answer["transfered_credits"]) == (55, 45)
        assert is_id(answer["transfer_record"])
        assert (await calls.credits(alice), await calls.credits(bob)) == (55, 45)

    async def test_writes_a_transfer_row_then_the_partners_incoming_row_and_no_invoice(self, server: Running) -> None:
        alice, bob = await calls.funded(server, 100), await server.user()
        invoices = books(server).rows["invoice"]
        answer = ok(await calls.transfer(alice, bob.email, 45), *TRANSFERRED)
        sent = await calls.record(alice, "transfer", answer["transfer_record"])
        assert (sent["transfer_type"], sent["transfer_from"], sent["transfer_to"], sent["credits"]) == (
            "transfer", alice.email, bob.email, 45,
        )  # fmt: skip
        assert await calls.records(bob, "transfer") == [answer["transfer_record"] + 1]
        received = await calls.record(bob, "transfer", answer["transfer_record"] + 1)
        assert (received["transfer_type"], received["transfer_from"], received["transfer_to"]) == (
            "incoming", alice.email, bob.email,
        )  # fmt: skip
        assert books(server).rows["invoice"] == invoices
        assert await calls.records(bob, "invoice") == []
        assert_clean(server)

    async def test_refuses_invoice_fields_as_unknown_keys(self, server: Running) -> None:
        alice, bob = await calls.funded(server, 10), await server.user()
        async with changes_nothing(server, alice, bob):
            for extra in [{"currency": "RON"}, {"cost": 1.0}, {"notes": "hi"}, {"pay": "x"}]:
                refused(await calls.transfer(alice, bob.email, 1, **extra), "invalid_value", extra)

    async def test_moves_credits_back_and_forth_and_keeps_the_books_clean(self, server: Running) -> None:
        alice, bob = await calls.funded(server, 50), await calls.funded(server, 50)
        for _ in range(3):
            ok(await calls.transfer(alice, bob.email, 20), *TRANSFERRED)
            ok(await calls.pay(bob, alice.email, 15), *PAID)
        assert (await calls.credits(alice), await calls.credits(bob)) == (35, 65)
        report = assert_clean(server)
        assert report.supplied == 100 and report.credits_held == 100
