"""Group commit for SQLite: one writer thread runs write instructions back to back inside one
transaction, each under its own savepoint, and commits the batch with a single fsync. No
instruction is answered before the commit that holds it is durable, and a failing instruction
rolls back alone. (SQLite admits one writer at a time anyway; batching turns lock hand-offs and
per-instruction fsyncs into one of each per batch.)"""

from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError

from ewallet.domain.errors import Conflict
from ewallet.pipeline.attempt import Dispatcher, Outcome
from ewallet.protocol.envelope import failure
from ewallet.scheduling.batching import Answer, Work

log = logging.getLogger(__name__)


class GroupCommit:
    """`process(batch)` for the writer BatchThread."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    def __call__(self, batch: list[Work]) -> list[Answer]:
        outcomes: list[Outcome] = []
        try:
            with self.dispatcher.factory.begin() as db:
                for instruction, peer in batch:
                    outcomes.append(self.dispatcher.run_in(db, instruction, peer))
        except Exception as exc:
            # Nothing of the batch is durable: every instruction in it fails, none half-done.
            for outcome in outcomes:
                outcome.rolled_back()
            if isinstance(exc, OperationalError):
                log.warning("a batch of %d could not commit: %s", len(batch), type(exc).__name__)
                answer = failure(Conflict("the database was busy or failed; nothing changed, retry"))
            else:
                answer = self.dispatcher._internal(exc, batch[0][0])
            return [dict(answer) for _ in batch]
        for outcome in outcomes:
            outcome.committed()
        return [outcome.answer for outcome in outcomes]


class SharedRead:
    """`process(batch)` for a reader BatchThread: the batch's reads share one read transaction
    (one snapshot, taken after every one of them was queued, so each still sees everything
    acknowledged before it). Should the transaction itself fail, the rest run one by one."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    def __call__(self, batch: list[Work]) -> list[Answer]:
        answers: list[Answer] = []
        try:
            with self.dispatcher.read_factory.begin() as db:
                for instruction, peer in batch:
                    answers.append(self.dispatcher.read_in(db, instruction, peer))
        except Exception as exc:
            log.warning("a shared read transaction failed (%s); reading one by one", type(exc).__name__)
        run = self.dispatcher.run
        return answers + [run(instruction, peer) for instruction, peer in batch[len(answers) :]]
