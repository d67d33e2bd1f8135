"""Idempotency keys (§7): supply, pay, transfer and convert run once per key and account; a
retry gets the stored answer (with its own `id`), anything else under the key is `conflict`,
failures are not stored, concurrent duplicates give one effect, and keys expire."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from ewallet.clock import ManualClock
from tests.answers import ok, refused
from tests.money import calls
from tests.money.books import assert_clean, books, changes_nothing
from tests.money.calls import PAID, SUPPLIED, TRANSFERRED
from tests.support import LineClient, Running, running_server

Operation = Callable[..., Awaitable[dict[str, Any]]]

#: Each keyed instruction, made by `client` with `partner` at hand (more: the key, a request id).
OPERATIONS: dict[str, Operation] = {
    "supply": lambda client, partner, **more: calls.supply(client, 7, **more),
    "pay": lambda client, partner, **more: calls.pay(client, partner.email, 7, **more),
    "transfer": lambda client, partner, **more: calls.transfer(client, partner.email, 7, **more),
    "credits2clock": lambda client, partner, **more: calls.to_clock(client, 7, **more),
    "clock2credits": lambda client, partner, **more: calls.to_credits(client, 3, **more),
}


async def ready(running: Running) -> tuple[LineClient, LineClient]:
    """A payer with credits and clock minutes, and a partner."""
    alice, bob = await calls.funded(running, 100), await running.user()
    ok(await calls.to_clock(alice, 10), *calls.TO_CLOCK)
    return alice, bob


def without_id(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if key != "id"}


class TestSameKeyTwice:
    @pytest.mark.parametrize("operation", OPERATIONS)
    async def test_has_one_effect_and_answers_the_same_with_the_new_requests_id(
        self, server: Running, operation: str
    ) -> None:
        alice, bob = await ready(server)
        run = OPERATIONS[operation]
        first = await run(alice, bob, idempotency_key="order-17", id=1)
        assert first["failed"] is False and first["id"] == 1, first
        after_first = books(server)
        seen = await calls.credits(alice), await calls.minutes(alice), await calls.credits(bob)
        second = await run(alice, bob, idempotency_key="order-17", id="retry-1")
        assert second["id"] == "retry-1"
        assert without_id(second) == without_id(first)
        assert books(server) == after_first
        assert (await calls.credits(alice), await calls.minutes(alice), await calls.credits(bob)) == seen
        third = await run(alice, bob, idempotency_key="order-17")
        assert third == without_id(first)
        assert_clean(server)

    async def test_treats_omitted_defaults_as_the_same_request(self, server: Running) -> None:
        alice = await server.user()
        first = ok(await calls.supply(alice, 5, idempotency_key="k"), *SUPPLIED)
        again = await calls.supply(alice, 5, currency="RON", cost=0, idempotency_key="k")
        assert again == first
        assert await calls.credits(alice) == 5

    async def test_does_not_bind_instructions_without_a_key(self, server: Running) -> None:
        alice = await server.user()
        ok(await calls.supply(alice, 5), *SUPPLIED)
        ok(await calls.supply(alice, 5), *SUPPLIED)
        assert await calls.credits(alice) == 10


class TestConflictingReuse:
    @pytest.mark.parametrize(
        "changed",
        [
            {"credits": 8},
            {"currency": "EUR"},
            {"cost": 1.5},
            {"notes": "other"},
        ],
        ids=["credits", "currency", "cost", "notes"],
    )
    async def test_refuses_other_parameters_under_a_used_key_and_changes_nothing(
        self, server: Running, changed: dict[str, Any]
    ) -> None:
        alice, bob = await ready(server)
        ok(await calls.pay(alice, bob.email, 7, idempotency_key="k"), *PAID)
        parameters = {"credits": 7} | changed
        async with changes_nothing(server, alice, bob):
            refused(await alice.call(action="pay", pay=bob.email, idempotency_key="k", **parameters), "conflict")

    async def test_refuses_another_partner_under_a_used_key(self, server: Running) -> None:
        alice, bob = await ready(server)
        carol = await server.user()
        ok(await calls.transfer(alice, bob.email, 7, idempotency_key="k"), *TRANSFERRED)
        async with changes_nothing(server, alice, bob, carol):
            refused(await calls.transfer(alice, carol.email, 7, idempotency_key="k"), "conflict")

    @pytest.mark.parametrize("operation", [name for name in OPERATIONS if name != "supply"])
    async def test_refuses_another_instruction_under_a_used_key(self, server: Running, operation: str) -> None:
        alice, bob = await ready(server)
        ok(await calls.supply(alice, 7, idempotency_key="k"), *SUPPLIED)
        async with changes_nothing(server, alice, bob):
            refused(await OPERATIONS[operation](alice, bob, idempotency_key="k"), "conflict")

    async def test_binds_a_system_supply_key_to_the_supplied_account(self, server: Running) -> None:
        alice = await server.user()
        operator = await server.client()
        first = ok(await calls.system_supply(operator, alice.email, 9, idempotency_key="pay-123"), *SUPPLIED)
        assert await calls.system_supply(operator, alice.email, 9, idempotency_key="pay-123") == first
        refused(await calls.system_supply(operator, alice.email, 10, idempotency_key="pay-123"), "conflict")
        assert await calls.credits(alice) == 9


class TestKeyNamespaces:
    """§11: an operator's keys and a user's keys live apart, on both backends."""

    async def test_a_users_key_never_blocks_the_operators_supply(self, any_server: Running) -> None:
        alice = await any_server.user()
        operator = await any_server.client()
        mine = ok(await calls.supply(alice, 5, idempotency_key="invoice-42"), *SUPPLIED)
        theirs = ok(await calls.system_supply(operator, alice.email, 9, idempotency_key="invoice-42"), *SUPPLIED)
        assert theirs["transfer_record"] != mine["transfer_record"]
        assert await calls.credits(alice) == 14
        # Each key still replays in its own namespace.
        assert await calls.supply(alice, 5, idempotency_key="invoice-42") == mine
        assert await calls.system_supply(operator, alice.email, 9, idempotency_key="invoice-42") == theirs
        assert await calls.credits(alice) == 14

    async def test_the_operators_key_never_blocks_a_users_supply(self, any_server: Running) -> None:
        alice = await any_server.user()
        operator = await any_server.client()
        ok(await calls.system_supply(operator, alice.email, 9, idempotency_key="pay-123"), *SUPPLIED)
        ok(await calls.supply(alice, 9, idempotency_key="pay-123"), *SUPPLIED)
        refused(await calls.supply(alice, 10, idempotency_key="pay-123"), "conflict")
        assert await calls.credits(alice) == 18


class TestFailuresAreNotStored:
    async def test_runs_a_refused_instruction_again_when_retried_with_its_key(self, server: Running) -> None:
        alice, bob = await calls.funded(server, 10), await server.user()
        keys = books(server).rows["idempotency"]
        refused(await calls.pay(alice, bob.email, 50, idempotency_key="k"), "insufficient_credits")
        assert books(server).rows["idempotency"] == keys
        ok(await calls.supply(alice, 100), *SUPPLIED)
        paid = ok(await calls.pay(alice, bob.email, 50, idempotency_key="k"), *PAID)
        assert paid["ewallet_credits"] == 60
        assert await calls.pay(alice, bob.email, 50, idempotency_key="k") == paid
        assert (await calls.credits(alice), await calls.credits(bob)) == (60, 50)
        assert books(server).rows["idempotency"] == keys + 1

    async def test_stores_nothing_for_invalid_parameters(self, server: Running) -> None:
        alice = await server.user()
        refused(await calls.supply(alice, 0, idempotency_key="k"), "invalid_value")
        ok(await calls.supply(alice, 3, idempotency_key="k"), *SUPPLIED)
        assert await calls.credits(alice) == 3


class TestKeysPerAccount:
    async def test_lets_two_accounts_use_the_same_key(self, server: Running) -> None:
        alice, bob = await server.user(), await server.user()
        ok(await calls.supply(alice, 5, idempotency_key="same"), *SUPPLIED)
        ok(await calls.supply(bob, 6, idempotency_key="same"), *SUPPLIED)
        ok(await calls.transfer(bob, alice.email, 6, idempotency_key="same-2"), *TRANSFERRED)
        ok(await calls.transfer(alice, bob.email, 11, idempotency_key="same-2"), *TRANSFERRED)
        assert (await calls.credits(alice), await calls.credits(bob)) == (0, 11)

    async def test_keeps_a_key_across_the_accounts_sessions(self, server: Running) -> None:
        alice = await server.user()
        first = ok(await calls.supply(alice, 5, idempotency_key="k"), *SUPPLIED)
        other = await calls.login_again(server, alice.email)
        assert await calls.supply(other, 5, idempotency_key="k") == first
        assert await calls.credits(other) == 5


class TestKeyValues:
    async def test_refuses_a_key_that_is_not_a_string_of_1_to_255_characters(self, server: Running) -> None:
        alice = await calls.funded(server, 5)
        async with changes_nothing(server, alice):
            for key in ["", "x" * 256, 5, True, ["k"], {"k": 1}]:
                refused(await calls.supply(alice, 5, idempotency_key=key), "invalid_value", key)

    async def test_accepts_a_key_of_255_characters_and_compares_it_exactly(self, server: Running) -> None:
        alice = await server.user()
        ok(await calls.supply(alice, 1, idempotency_key="k" * 255), *SUPPLIED)
        ok(await calls.supply(alice, 1, idempotency_key="K" * 255), *SUPPLIED)
        ok(await calls.supply(alice, 1, idempotency_key=" " + "k" * 254), *SUPPLIED)
        assert await calls.credits(alice) == 3

    @pytest.mark.parametrize("verb", ["start", "stop"])
    async def test_is_refused_where_the_protocol_does_not_list_it(self, server: Running, verb: str) -> None:
        alice = await server.user()
        refused(await alice.call(action=verb, **{verb: "clock_timer"}, idempotency_key="k"), "invalid_value")


class TestConcurrentRetries:
    async def test_ten_connections_sending_one_key_at_once_have_one_effect(self, any_server: Running) -> None:
        alice, bob = await calls.funded(any_server, 100), await any_server.user()
        connections = [alice] + [await calls.login_again(any_server, alice.email) for _ in range(9)]
        before = books(any_server)
        answers = await asyncio.gather(
            *(calls.pay(client, bob.email, 30, idempotency_key="once", id=n) for n, client in enumerate(connections))
        )
        assert [answer["id"] for answer in answers] == list(range(10))
        assert all(answer["failed"] is False for answer in answers), answers
        assert len({repr(sorted(without_id(answer).items())) for answer in answers}) == 1
        assert (await calls.credits(alice), await calls.credits(bob)) == (70, 30)
        after = books(any_server)
        assert after.rows["transfer"] == before.rows["transfer"] + 2
        assert after.rows["invoice"] == before.rows["invoice"] + 1
        assert after.rows["idempotency"] == before.rows["idempotency"] + 1
        assert_clean(any_server)


class TestExpiry:
    async def test_forgets_a_key_after_the_configured_hours(self, sqlite_url: str, clock: ManualClock) -> None:
        async with running_server(sqlite_url, clock, idempotency_hours=1) as running:
            alice = await running.user()
            first = ok(await calls.supply(alice, 5, idempotency_key="k"), *SUPPLIED)
            clock.advance(3599)
            assert await calls.supply(alice, 5, idempotency_key="k") == first
            refused(await calls.supply(alice, 6, idempotency_key="k"), "conflict")
            clock.advance(2)
            later = ok(await calls.supply(alice, 6, idempotency_key="k"), *SUPPLIED)
            assert later["ewallet_credits"] == 11 and later["transfer_record"] > first["transfer_record"]
            assert await calls.supply(alice, 6, idempotency_key="k") == later

    async def test_purges_expired_keys_in_the_periodic_sweep(self, sqlite_url: str, clock: ManualClock) -> None:
        async with running_server(sqlite_url, clock, idempotency_hours=1, timer_sweep=0.1) as running:
            alice = await running.user()
            ok(await calls.supply(alice, 5, idempotency_key="k"), *SUPPLIED)
            assert books(running).rows["idempotency"] == 1
            clock.advance(3601)
            for _ in range(100):
                if books(running).rows["idempotency"] == 0:
                    break
                await asyncio.sleep(0.05)
            assert books(running).rows["idempotency"] == 0

    async def test_the_purge_is_a_job_of_its_own(self, sqlite_url: str, clock: ManualClock) -> None:
        async with running_server(sqlite_url, clock, idempotency_hours=1) as running:
            alice = await running.user()
            ok(await calls.supply(alice, 5, idempotency_key="k"), *SUPPLIED)
            clock.advance(3601)
            jobs = {job.name: job for job in running.app.maintenance.jobs}
            running.app.maintenance.run_once(jobs["timer sweep"])
            assert books(running).rows["idempotency"] == 1  # the timer sweep stops timers, nothing else
            assert running.app.maintenance.run_once(jobs["idempotency key purge"]) == 1
            assert books(running).rows["idempotency"] == 0

    async def test_keeps_keys_72_hours_by_default(self, server: Running) -> None:
        alice = await server.user()
        first = ok(await calls.supply(alice, 5, idempotency_key="k"), *SUPPLIED)
        server.clock.advance(71 * 3600)
        again = await calls.login_again(server, alice.email)
        assert await calls.supply(again, 5, idempotency_key="k") == first
        server.clock.advance(3600 + 1)
        assert ok(await calls.supply(again, 5, idempotency_key="k"), *SUPPLIED)["ewallet_credits"] == 10
