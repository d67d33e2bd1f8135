"""Scale-out (issue 8, item 4): two `ewallet serve` processes on one database, PostgreSQL and a
SQLite file (one host). Sessions live in the database, so a session opened through one process
is used through the other; the same sessions move credits through both processes at once, and
every balance, every ledger row and the audit come out exact."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from ewallet.domain.ledger import PAYMENT, TRANSFER_TYPE
from scripts.drills.audit import audit_cli
from scripts.drills.ledger import read_ledger
from scripts.drills.processes import serving
from scripts.drills.wallets import Sent, expected_balances, keep_moving, open_wallet

START, WALLETS, MOVES = 500, 6, 40


class TestTwoProcessesOnOneDatabase:
    async def test_a_session_opened_through_one_process_is_used_through_the_other(self, database_url: str) -> None:
        with serving(database_url) as one, serving(database_url) as two:
            alice = await open_wallet(one.port, 0, "alice", 50)
            bob = await open_wallet(one.port, 1, "bob", 0)
            there = await alice.twin().connect(two.port)
            try:
                assert await there.credits() == 50
                moved = await there.call(action="transfer", transfer="credits", transfer_to=bob.email, credits=20)
                assert moved is not None and moved["ewallet_credits"] == 30, moved
                assert await alice.credits() == 30
                assert await bob.credits() == 20
                logged_out = await there.call(action="logout")
                assert logged_out is not None and logged_out["failed"] is False, logged_out
                answer = await alice.call(action="view", view="account")
                assert answer is not None and answer["code"] == "not_logged_in", answer
            finally:
                for wallet in (alice, bob, there):
                    await wallet.close()
            assert not one.tracebacks() and not two.tracebacks()

    async def test_the_same_sessions_moving_credits_through_both_keep_every_balance_exact(
        self, database_url: str
    ) -> None:
        with serving(database_url) as one, serving(database_url) as two:
            wallets = [await open_wallet(one.port, n, f"scale{n}", START) for n in range(WALLETS)]
            twins = [await wallet.twin().connect(two.port) for wallet in wallets]
            sent: list[Sent] = []
            never = asyncio.Event()
            rng = random.Random(8)
            try:
                await asyncio.gather(
                    *(
                        keep_moving(mover, wallets, random.Random(rng.random()), sent, prefix, never, MOVES)
                        for movers, prefix in ((wallets, "one"), (twins, "two"))
                        for mover in movers
                    )
                )
                outcomes = Counter("ok" if m.succeeded else m.answer["code"] if m.answer else "none" for m in sent)
                print(f"\n{len(sent)} movements through two processes: {dict(outcomes)}")
                assert len(sent) == 2 * WALLETS * MOVES
                # conflict: SQLite's busy timeout passed under the other process's write lock.
                assert set(outcomes) <= {"ok", "insufficient_credits", "conflict"}, outcomes
                expected = expected_balances(dict.fromkeys(range(WALLETS), START), sent)
                assert {w.index: await w.credits() for w in wallets} == expected
                assert {w.index: await w.credits() for w in twins} == expected
            finally:
                for wallet in wallets + twins:
                    await wallet.close()
            ledger = read_ledger(database_url)
            assert not ledger.half_applied(), ledger.half_applied()
            assert not ledger.audit_problems, ledger.audit_problems
            for kind, row_kind in (("pay", PAYMENT), ("transfer", TRANSFER_TYPE)):
                assert ledger.kinds[row_kind] == sum(m.succeeded and m.kind == kind for m in sent)
            assert {m.key for m in sent if m.succeeded} <= set(ledger.keys)
            assert not {m.key for m in sent if not m.succeeded} & set(ledger.keys)
            done = audit_cli(database_url)
            assert done.returncode == 0, done.stdout + done.stderr
            assert not one.tracebacks() and not two.tracebacks(), one.log + two.log
