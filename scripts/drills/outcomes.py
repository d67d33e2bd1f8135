"""Settling the books after a fault: replaying the instructions that answered `conflict` with
their idempotency keys, then checking that every balance, every ledger row and the audit come
out exact."""

from __future__ import annotations

from collections import Counter

from ewallet.domain.ledger import PAYMENT, TRANSFER_TYPE
from ewallet.pipeline.policies import OUTCOME_UNKNOWN
from scripts.drills.audit import audit_cli
from scripts.drills.ledger import Ledger, read_ledger
from scripts.drills.wallets import Sent, Wallet, expected_balances


async def settle(sent: list[Sent], wallets: list[Wallet], before: Ledger) -> Counter[str]:
    """Replay every movement that did not succeed with a `conflict`: an outcome-unknown one
    answers its stored result when it had committed (already in `before`), else it runs now; a
    nothing-changed one runs now. Returns how the replays went."""
    replays: Counter[str] = Counter()
    for move in sent:
        if move.answer is None or move.answer.get("code") != "conflict":
            continue
        stored = move.key in before.keys
        assert stored is False or move.answer["error"] == OUTCOME_UNKNOWN, "a nothing-changed conflict was stored"
        replay = await wallets[move.payer].call(**move.request(wallets))
        assert replay is not None
        if stored:
            assert replay == before.keys[move.key]
        replays["stored" if stored else "ran now" if replay["failed"] is False else replay["code"]] += 1
        move.answer = replay
    return replays


def assert_exact(database_url: str, sent: list[Sent], start: dict[int, int], seen: dict[int, int]) -> None:
    assert seen == expected_balances(start, sent)
    ledger = read_ledger(database_url)
    assert not ledger.half_applied(), ledger.half_applied()
    assert not ledger.audit_problems, ledger.audit_problems
    for kind, row_kind in (("pay", PAYMENT), ("transfer", TRANSFER_TYPE)):
        assert ledger.kinds[row_kind] == sum(m.succeeded and m.kind == kind for m in sent)
    done = audit_cli(database_url)
    assert done.returncode == 0, done.stdout + done.stderr
