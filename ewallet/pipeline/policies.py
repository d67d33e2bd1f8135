"""Transaction policies: how the pipeline's attempts are wrapped in transactions. Each takes a
batch of instructions and returns their answers, and each decides what a failed attempt means
with the one `classify`.

- OwnTransaction ("pooled"): every instruction in a transaction of its own on the thread pool,
  run again when it lost a race. The default on PostgreSQL, where writers run side by side.
- GroupCommit ("grouped", writes): one writer thread runs a batch of writes back to back in
  one transaction, each under a savepoint of its own, and commits the batch with one fsync. No
  instruction is answered before the commit that holds it is durable, and a failing one rolls
  back alone. The default on SQLite, which admits one writer at a time anyway: batching turns
  lock hand-offs and per-instruction fsyncs into one of each per batch.
- SharedRead ("grouped", reads): a batch of reads shares one read transaction, whose snapshot
  is taken after every one of them was queued, so each still sees everything acknowledged
  before it."""

from __future__ import annotations

import logging
import threading
import time
from typing import Literal

from sqlalchemy.orm import Session as Db
from sqlalchemy.orm import sessionmaker

from ewallet.domain.errors import Conflict, EwalletError
from ewallet.metrics import Metrics
from ewallet.pipeline.attempt import Outcome, Pipeline, database_failed
from ewallet.pipeline.classify import Verdict, classify
from ewallet.pipeline.units import Savepoint, Transaction
from ewallet.protocol.answers import Answer, failure, internal_failure
from ewallet.protocol.envelope import Instruction

log = logging.getLogger(__name__)

#: An instruction that lost a race is run again this many times, then answered `conflict`.
RETRIES = 3
OUTCOME_UNKNOWN = (
    "the database connection was lost while committing, so the instruction may or may not have taken "
    "effect: retry it with the same idempotency_key, which answers the stored result if it did"
)
BATCH_FAILED = "the database was busy or failed; nothing changed, retry"

Work = tuple[Instruction, str]
PolicyName = Literal["grouped", "pooled"]


def policy_for(setting: str, dialect: str) -> PolicyName:
    """The `transactions` setting resolved: "auto" groups on SQLite and pools elsewhere."""
    if setting == "auto":
        return "grouped" if dialect == "sqlite" else "pooled"
    if setting in ("grouped", "pooled"):
        return setting  # type: ignore[return-value]
    raise ValueError(f"unknown transaction policy {setting!r}")


class OwnTransaction:
    def __init__(
        self, pipeline: Pipeline, write: sessionmaker[Db], read: sessionmaker[Db], metrics: Metrics | None = None
    ) -> None:
        self.pipeline = pipeline
        self.write = write
        self.read = read
        self.metrics = metrics if metrics is not None else Metrics()

    def __call__(self, batch: list[Work]) -> list[Answer]:
        return [self.run(instruction, peer) for instruction, peer in batch]

    def run(self, instruction: Instruction, peer: str) -> Answer:
        route = instruction.route
        unit_of = self.read if route.read_only else self.write
        last: tuple[Verdict, BaseException] | None = None
        for _ in range(RETRIES + 1):
            outcome: Outcome | None = None
            committing = False
            try:
                with Transaction(unit_of) as unit:
                    outcome = self.pipeline.attempt(unit.db, instruction, peer)
                    unit.db.flush()
                    # From here on only COMMIT is left to send: should the connection die now,
                    # the database may or may not have committed.
                    committing = not route.read_only
                    unit.commit()
            except EwalletError as error:
                return failure(error)
            except Exception as exc:
                if outcome is not None:
                    outcome.rolled_back()
                verdict = classify(exc, committing=committing)
                if verdict is Verdict.INTERNAL:
                    return internal_failure(exc, route.name)
                if verdict is Verdict.OUTCOME_UNKNOWN:
                    log.warning("connection lost while committing %s: outcome unknown", route.name)
                    self.metrics.database_failures.labels("outcome_unknown").inc()
                    return failure(Conflict(OUTCOME_UNKNOWN))
                # Before COMMIT the database rolls the transaction back by itself (a lost
                # connection included), so running the instruction again is safe.
                log.debug("running %s again after %s", route.name, type(exc).__name__)
                last = (verdict, exc)
                self.metrics.database_retries.inc()
                continue
            outcome.committed()
            return outcome.answer
        assert last is not None
        verdict, cause = last
        if verdict is Verdict.OUTAGE:
            self.metrics.database_failures.labels("outage").inc()
            return database_failed(cause, route.name)
        return failure(Conflict())


class GroupCommit:
    """`writing` is set while a batch runs (see SharedRead)."""

    def __init__(
        self,
        pipeline: Pipeline,
        write: sessionmaker[Db],
        metrics: Metrics | None = None,
        writing: threading.Event | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.write = write
        self.metrics = metrics if metrics is not None else Metrics()
        self.writing = writing if writing is not None else threading.Event()

    def __call__(self, batch: list[Work]) -> list[Answer]:
        outcomes: list[Outcome] = []
        self.writing.set()
        try:
            with Transaction(self.write) as unit:
                for instruction, peer in batch:
                    outcomes.append(self._under_savepoint(unit.db, instruction, peer))
                unit.commit()
        except Exception as exc:
            # Nothing of the batch is durable: every instruction in it fails, none half-done.
            for outcome in outcomes:
                outcome.rolled_back()
            if classify(exc) is Verdict.INTERNAL:
                answer = internal_failure(exc, f"a batch of {len(batch)} from {batch[0][0].route.name}")
            else:
                log.warning("a batch of %d could not commit: %s", len(batch), type(exc).__name__)
                self.metrics.database_failures.labels("batch").inc()
                answer = failure(Conflict(BATCH_FAILED))
            return [dict(answer) for _ in batch]
        finally:
            self.writing.clear()
        for outcome in outcomes:
            outcome.committed()
        return [outcome.answer for outcome in outcomes]

    def _under_savepoint(self, db: Db, instruction: Instruction, peer: str) -> Outcome:
        route = instruction.route
        for _ in range(RETRIES + 1):
            try:
                with Savepoint(db) as unit:
                    outcome = self.pipeline.attempt(db, instruction, peer)
                    unit.commit()
                return outcome
            except EwalletError as error:
                return Outcome(failure(error))
            except Exception as exc:
                verdict = classify(exc)
                if verdict is Verdict.LOST_RACE:
                    self.metrics.database_retries.inc()
                    continue
                if verdict is Verdict.INTERNAL:
                    return Outcome(internal_failure(exc, route.name))
                self.metrics.database_failures.labels("outage").inc()
                return Outcome(database_failed(exc, route.name))
        return Outcome(failure(Conflict()))


class SharedRead:
    """Should the shared transaction itself fail, the rest of the batch runs one by one.

    While the writer runs a batch (`writing` set), the reader lets go of the interpreter lock
    between its instructions. The writer gives the lock up in every driver call (each
    statement, the commit's fsync) and must take it back each time; a reader thread holding it
    is only made to let go after the switch interval (5 ms), so a batch of writes beside a busy
    reader waited tens of milliseconds for it (measured: mixed load p99 115 ms, 41 ms with this)."""

    def __init__(
        self,
        pipeline: Pipeline,
        read: sessionmaker[Db],
        alone: OwnTransaction,
        writing: threading.Event | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.read = read
        self.alone = alone
        self.writing = writing if writing is not None else threading.Event()

    def __call__(self, batch: list[Work]) -> list[Answer]:
        answers: list[Answer] = []
        try:
            # Never committed: the unit's exit ends the snapshot, which is all a read needs.
            with Transaction(self.read) as unit:
                for instruction, peer in batch:
                    answers.append(self._read(unit.db, instruction, peer))
                    if self.writing.is_set():
                        time.sleep(0)
        except Exception as exc:
            log.warning("a shared read transaction failed (%s); reading one by one", type(exc).__name__)
        return answers + self.alone(batch[len(answers) :])

    def _read(self, db: Db, instruction: Instruction, peer: str) -> Answer:
        try:
            return self.pipeline.attempt(db, instruction, peer).answer
        except EwalletError as error:
            return failure(error)
        except Exception as exc:
            if classify(exc) is Verdict.INTERNAL:
                return internal_failure(exc, instruction.route.name)
            raise  # the shared transaction is unusable: what is left of the batch runs alone
