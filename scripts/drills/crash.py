"""The crash drill (issue 8, item 1). Clients move credits between their accounts, every
instruction with its own idempotency key, while `ewallet serve` is killed with SIGKILL at a
random moment and restarted on the same database. After each restart:

- the books balance (`ewallet audit`, run as its own process, on the database as the crash
  left it) and no movement is half-applied (a source row without its incoming row, or the
  reverse; an invoice short or over);
- every acknowledged success is durable: its key is stored with exactly the answer the client
  got, and replaying the key answers it again; an acknowledged failure left no key;
- every unacknowledged instruction happened entirely or not at all: replaying its key either
  answers a stored result that is already in the books (it committed before the kill) or runs
  it now for the first time;
- every balance, read through the protocol, equals the funding plus the effects of exactly the
  instructions that succeeded (acknowledged, or found committed by their replay).

The test runs it small on both backends; `scripts/crash.py` runs it big.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ewallet.domain.ledger import PAYMENT, TRANSFER_TYPE
from scripts.drills.audit import audit_cli
from scripts.drills.ledger import read_ledger
from scripts.drills.processes import ServerProcess
from scripts.drills.wallets import Sent, Wallet, expected_balances, keep_moving, open_wallet


@dataclass
class KillPoint:
    after: float  # seconds of load before the SIGKILL
    sent: int
    acknowledged: int
    unanswered: int
    #: unanswered, yet committed before the kill (their replay answered a stored result)
    committed_unanswered: int


@dataclass
class CrashReport:
    seed: int
    clients: int
    kills: list[KillPoint] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        sent = sum(k.sent for k in self.kills)
        unanswered = sum(k.unanswered for k in self.kills)
        committed = sum(k.committed_unanswered for k in self.kills)
        return (
            f"{len(self.kills)} SIGKILLs survived, {self.clients} clients, {sent} movements sent, "
            f"{sent - unanswered} acknowledged, {unanswered} in flight at the kills "
            f"({committed} had committed), seed {self.seed}, {self.seconds:.1f} s"
        )


async def crash_drill(
    database_url: str,
    *,
    kills: int = 3,
    clients: int = 8,
    credits: int = 1000,
    load_seconds: tuple[float, float] = (0.3, 1.5),
    seed: int | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> CrashReport:
    seed = random.randrange(2**32) if seed is None else seed
    rng = random.Random(seed)
    report = CrashReport(seed=seed, clients=clients)
    started = time.monotonic()
    servers = [ServerProcess(database_url)]
    wallets: list[Wallet] = []
    try:
        wallets = [await open_wallet(servers[-1].port, n, f"crash{n}", credits) for n in range(clients)]
        balances = dict.fromkeys(range(clients), credits)
        history: list[Sent] = []
        for kill in range(kills):
            sent: list[Sent] = []
            stop = asyncio.Event()
            movers = [
                asyncio.create_task(keep_moving(w, wallets, random.Random(rng.random()), sent, f"k{kill}", stop))
                for w in wallets
            ]
            after = rng.uniform(*load_seconds)
            await asyncio.sleep(after)
            servers[-1].kill()
            await asyncio.wait_for(asyncio.gather(*movers), 60)
            assert not servers[-1].tracebacks(), "".join(servers[-1].log)
            servers.append(ServerProcess(database_url))
            point = await _check_after_restart(database_url, servers[-1], wallets, sent, balances, history)
            point.after = after
            report.kills.append(point)
            log(
                f"kill {kill + 1}/{kills} after {after:.2f} s: {point.sent} sent, {point.acknowledged} acknowledged, "
                f"{point.unanswered} in flight ({point.committed_unanswered} had committed); books balance"
            )
        assert servers[-1].stop() == 0, "".join(servers[-1].log)
        assert not servers[-1].tracebacks(), "".join(servers[-1].log)
    finally:
        for wallet in wallets:
            await wallet.close()
        for server in servers:
            server.kill()
    report.seconds = time.monotonic() - started
    return report


async def _check_after_restart(
    database_url: str,
    server: ServerProcess,
    wallets: list[Wallet],
    sent: list[Sent],
    balances: dict[int, int],
    history: list[Sent],
) -> KillPoint:
    # The database as the crash left it, before any client touches it again.
    done = audit_cli(database_url)
    assert done.returncode == 0, done.stdout + done.stderr
    crashed = read_ledger(database_url)
    assert not crashed.half_applied(), crashed.half_applied()
    for move in sent:
        if move.succeeded:
            assert crashed.keys.get(move.key) == move.answer, f"acknowledged {move.key} is not stored as answered"
        elif move.answer is not None:
            assert move.answer["code"] == "insufficient_credits", move.answer
            assert move.key not in crashed.keys, f"failed {move.key} left a key"

    # Replay every key that may have an effect: acknowledged successes and unanswered ones.
    for wallet in wallets:
        await wallet.connect(server.port)
    unanswered = [move for move in sent if move.answer is None]
    committed = 0
    for move in sent:
        if move.answer is not None and not move.succeeded:
            continue
        replay = await wallets[move.payer].call(**move.request(wallets))
        assert replay is not None
        if move.succeeded:
            assert replay == move.answer, (move.key, move.answer, replay)
            continue
        if move.key in crashed.keys:  # committed before the kill: the stored answer, already in the books
            committed += 1
            assert replay == crashed.keys[move.key], (move.key, replay)
            assert replay["transfer_record"] <= crashed.max_transfer_record
        elif replay["failed"] is False:  # never happened: it runs now, for the first time
            assert replay["transfer_record"] > crashed.max_transfer_record, (move.key, replay)
        else:
            assert replay["code"] == "insufficient_credits", replay
        move.answer = replay

    expected = expected_balances(balances, sent)
    seen = {wallet.index: await wallet.credits() for wallet in wallets}
    assert seen == expected, (seen, expected)
    balances.update(expected)
    after = read_ledger(database_url)
    assert not after.audit_problems, after.audit_problems
    assert not after.half_applied(), after.half_applied()
    # Exactly once: one payment or transfer row per success of all the drill's rounds.
    history.extend(sent)
    for kind, row_kind in (("pay", PAYMENT), ("transfer", TRANSFER_TYPE)):
        succeeded = {move.key for move in history if move.succeeded and move.kind == kind}
        assert after.kinds[row_kind] == len(succeeded), (kind, after.kinds[row_kind], len(succeeded))
        assert succeeded <= set(after.keys), "a success without its key"
    return KillPoint(
        after=0.0,
        sent=len(sent),
        acknowledged=len(sent) - len(unanswered),
        unanswered=len(unanswered),
        committed_unanswered=committed,
    )
