"""The race harness (§11): each pair of the race table runs from two sessions through two server
processes at the same moment, round after round, each round on a fresh account; after every round
the books must pass the audit (its structural invariants included) and neither answer may be
`internal_error` or `conflict` (a deadlock would mean a lock taken out of order)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from ewallet.domain.audit import audit
from ewallet.storage.database import create_db_engine, snapshot_factory
from scripts.drills.line_client import LineClient
from scripts.drills.races.ops import PAUSED, RUNNING, Op, pairs
from scripts.drills.races.scenario import World, line_of

#: Seconds the second instruction trails the first, by round: both orders, a few distances.
OFFSETS = (0.0, 0.0, 0.0005, 0.001, 0.002, 0.004)
#: Answers a race may give besides success: the domain refusing what the other one made wrong.
REFUSALS = {
    "insufficient_credits",
    "insufficient_clock",
    "invalid_value",
    "last_resource",
    "not_found",
    "timer_state",
    "not_logged_in",
    "account_pending_deletion",
}


@dataclass
class RaceReport:
    rounds: int = 0
    pairs: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    findings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        top = ", ".join(f"{name} {count}" for name, count in self.outcomes.most_common())
        return (
            f"{self.pairs} pairs x {self.rounds // max(self.pairs, 1)} rounds = {self.rounds} races in "
            f"{self.seconds:.0f} s; answers: {top}; findings: {len(self.findings)}"
        )


def _needs(first: Op, second: Op) -> frozenset[str]:
    needs = first.needs | second.needs
    # One timer state per scenario: a paused timer serves resume (pause and stop then refuse).
    return needs - {RUNNING} if PAUSED in needs else needs


class Harness:
    def __init__(self, database_url: str, ports: list[int]) -> None:
        self.ports = ports
        self.engine: Engine = create_db_engine(database_url, pool_size=1)
        self.report = RaceReport()
        self._seen: set[str] = set()

    async def run(self, rounds: int, only: list[tuple[Op, Op]] | None = None) -> RaceReport:
        started = time.monotonic()
        chosen = only or pairs()
        world = await World.open(self.ports, tag=str(int(started * 1000) % 100000))
        try:
            for number in range(rounds):
                for first, second in chosen:
                    await self._race(world, first, second, number)
        finally:
            await world.close()
            self.engine.dispose()
        self.report.pairs = len(chosen)
        self.report.seconds = time.monotonic() - started
        return self.report

    async def _race(self, world: World, first: Op, second: Op, number: int) -> None:
        ids = await world.round(_needs(first, second))
        # The first instruction goes through process one, the second through process two; x's
        # two instructions come from its two sessions.
        x_sessions = iter(world.x_sessions)
        lines: list[tuple[LineClient, bytes]] = []
        for where, op in enumerate((first, second)):
            session = next(x_sessions) if op.actor == "x" else world.y if op.actor == "y" else None
            conn = world.operator[where] if session is None else session.conns[where]
            lines.append((conn, line_of(session, op.build(ids))))
        offset = OFFSETS[number % len(OFFSETS)]
        if number % 2:
            lines.reverse()
        answers = await _together(lines, offset)
        label = f"{first.name} vs {second.name} (round {number})"
        for answer in answers:
            code = "ok" if answer.get("failed") is False else str(answer.get("code"))
            self.report.outcomes[code] += 1
            if code != "ok" and code not in REFUSALS:
                self.report.findings.append(f"{label}: answered {code}: {answer.get('error')}")
        self.report.rounds += 1
        self._check_books(label)

    def _check_books(self, label: str) -> None:
        with snapshot_factory(self.engine).begin() as db:
            problems = audit(db).problems
        # A damaged state stays damaged: it is reported once, by the race that made it.
        new = [problem for problem in problems if problem not in self._seen]
        self._seen.update(new)
        self.report.findings.extend(f"{label}: {problem}" for problem in new)


async def _together(lines: list[tuple[LineClient, bytes]], offset: float) -> list[dict[str, Any]]:
    """Send both lines as close together as the loop allows (or `offset` apart), then read both."""
    (first, first_line), (second, second_line) = lines
    first.writer.write(first_line)
    if offset:
        await asyncio.sleep(offset)
    second.writer.write(second_line)
    await asyncio.gather(first.writer.drain(), second.writer.drain())
    answers = await asyncio.gather(first.recv(30), second.recv(30))
    assert all(answer is not None for answer in answers), "a server closed the connection"
    return [answer for answer in answers if answer is not None]
