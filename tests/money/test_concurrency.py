"""Many clients over TCP at once, on SQLite and on PostgreSQL (§7: concurrent operations never
lose an update and never overdraw; §2: rows are locked in id order, so opposite movements never
deadlock into an error)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

from scripts.drills.audit import audit_cli
from tests.answers import ok, refused
from tests.money import calls
from tests.money.books import assert_clean, books
from tests.money.calls import SUPPLIED
from tests.support import LineClient, Running

ACCOUNTS, CLIENTS, OPERATIONS, START = 10, 24, 40, 100


async def move(kind: str, client: LineClient, partner: str, credits: int) -> dict[str, Any]:
    if kind == "pay":
        return await calls.pay(client, partner, credits)
    return await calls.transfer(client, partner, credits)


async def connections(running: Running, owners: list[LineClient], total: int) -> list[LineClient]:
    """The owners' own connections, then more sessions logged into the same accounts in turn."""
    extra = [await calls.login_again(running, owners[n % len(owners)].email) for n in range(len(owners), total)]
    return owners + extra


class TestRandomTraffic:
    async def test_clients_paying_and_transferring_at_random_lose_and_create_no_credit(
        self, any_server: Running
    ) -> None:
        owners = [await calls.funded(any_server, START) for _ in range(ACCOUNTS)]
        emails = [owner.email for owner in owners]
        clients = await connections(any_server, owners, CLIENTS)
        before = books(any_server)

        async def traffic(seed: int, client: LineClient) -> list[tuple[str, str, str, int, dict[str, Any]]]:
            rng, me = random.Random(seed), client.email
            done = []
            for _ in range(OPERATIONS):
                kind = rng.choice(("pay", "transfer"))
                partner, credits = rng.choice([email for email in emails if email != me]), rng.randint(1, 40)
                done.append((kind, me, partner, credits, await move(kind, client, partner, credits)))
            return done

        runs = await asyncio.gather(*(traffic(seed, client) for seed, client in enumerate(clients)))
        results = [result for run in runs for result in run]
        assert len(results) == CLIENTS * OPERATIONS
        outcomes = Counter("ok" if answer["failed"] is False else answer["code"] for *_, answer in results)
        assert set(outcomes) <= {"ok", "insufficient_credits"}, outcomes
        expected = dict.fromkeys(emails, START)
        for _, me, partner, credits, answer in results:
            if answer["failed"] is False:
                assert answer["ewallet_credits"] >= 0
                expected[me] -= credits
                expected[partner] += credits
            else:
                refused(answer, "insufficient_credits")
        final = {owner.email: await calls.credits(owner) for owner in owners}
        assert final == expected
        assert min(final.values()) >= 0
        assert sum(final.values()) == ACCOUNTS * START
        moved = [(kind, answer) for kind, *_, answer in results if answer["failed"] is False]
        after = books(any_server)
        assert after.rows["transfer"] == before.rows["transfer"] + 2 * len(moved)
        assert after.rows["invoice"] == before.rows["invoice"] + sum(kind == "pay" for kind, _ in moved)
        done = audit_cli(any_server.database_url)
        print(f"\n{CLIENTS} clients x {OPERATIONS} operations: {dict(outcomes)}\n{done.stdout}")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "books balance" in done.stdout


class TestOverdraftRace:
    async def test_two_concurrent_payments_that_together_overdraw_let_exactly_one_through(
        self, any_server: Running
    ) -> None:
        alice = await calls.funded(any_server, 100)
        again = await calls.login_again(any_server, alice.email)
        bob, carol = await any_server.user(), await any_server.user()
        for round_ in range(12):
            first = calls.pay(alice, bob.email, 60)
            second = (calls.pay if round_ % 2 else calls.transfer)(again, carol.email, 60)
            answers = await asyncio.gather(first, second)
            passed = [answer for answer in answers if answer["failed"] is False]
            assert len(passed) == 1, answers
            assert passed[0]["ewallet_credits"] == 40
            refused(next(answer for answer in answers if answer["failed"]), "insufficient_credits")
            assert await calls.credits(alice) == 40
            ok(await calls.supply(alice, 60), *SUPPLIED)
        assert await calls.credits(bob) + await calls.credits(carol) == 12 * 60
        assert_clean(any_server)

    async def test_many_concurrent_conversions_never_overdraw(self, any_server: Running) -> None:
        alice = await calls.funded(any_server, 50)
        clients = [alice] + [await calls.login_again(any_server, alice.email) for _ in range(7)]
        answers = await asyncio.gather(*(calls.to_clock(client, 10) for client in clients))
        assert sum(answer["failed"] is False for answer in answers) == 5
        assert all(answer["code"] == "insufficient_credits" for answer in answers if answer["failed"])
        assert (await calls.credits(alice), await calls.minutes(alice)) == (0, 50.0)
        assert_clean(any_server)


class TestOppositeTransfers:
    async def test_transfers_both_ways_at_once_never_answer_conflict_or_internal_error(
        self, any_server: Running
    ) -> None:
        alice, bob = await calls.funded(any_server, 1000), await calls.funded(any_server, 1000)
        sides = [
            (client, partner)
            for owner, partner in ((alice, bob), (bob, alice))
            for client in [owner] + [await calls.login_again(any_server, owner.email) for _ in range(3)]
        ]

        async def push(client: LineClient, partner: LineClient) -> list[tuple[str, str, int, dict[str, Any]]]:
            done = []
            for n in range(25):
                credits = 1 + n % 5
                answer = await calls.transfer(client, partner.email, credits)
                done.append((client.email, partner.email, credits, answer))
            return done

        runs = await asyncio.gather(*(push(client, partner) for client, partner in sides))
        results = [result for run in runs for result in run]
        failures = [answer for *_, answer in results if answer["failed"]]
        assert failures == []
        expected = {alice.email: 1000, bob.email: 1000}
        for me, partner, credits, _ in results:
            expected[me] -= credits
            expected[partner] += credits
        assert {alice.email: await calls.credits(alice), bob.email: await calls.credits(bob)} == expected
        assert_clean(any_server)
