"""Group commit for SQLite: one writer thread runs write instructions back to back inside one
transaction, each under its own savepoint, and commits the batch with a single fsync. No
instruction is answered before the commit that holds it is durable, and a failing instruction
rolls back alone. (SQLite admits one writer at a time anyway; batching turns lock hand-offs and
per-instruction fsyncs into one of each per batch.)"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as Db
from sqlalchemy.orm import sessionmaker

from ewallet.dispatch import Dispatcher, Outcome
from ewallet.domain.errors import Conflict
from ewallet.protocol import Instruction, failure

log = logging.getLogger(__name__)

Item = tuple[Instruction, str, "Future[dict[str, Any]]"]


class GroupCommitter:
    def __init__(self, dispatcher: Dispatcher, factory: sessionmaker[Db], max_batch: int = 64) -> None:
        self.dispatcher = dispatcher
        self.factory = factory
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="ewallet-writer", daemon=True)
        self._thread.start()
        self.batches = 0
        self.instructions = 0

    def submit(self, instruction: Instruction, peer: str) -> Future[dict[str, Any]]:
        future: Future[dict[str, Any]] = Future()
        self._queue.put((instruction, peer, future))
        return future

    def close(self) -> None:
        """Finish what was submitted, then stop the writer thread."""
        self._queue.put(None)
        self._thread.join()

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._run(batch)
            if stop:
                return

    def _run(self, batch: list[Item]) -> None:
        outcomes: list[Outcome] = []
        try:
            with self.factory.begin() as db:
                for instruction, peer, _ in batch:
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
            for _, _, future in batch:
                future.set_result(dict(answer))
            return
        self.batches += 1
        self.instructions += len(batch)
        for outcome, (_, _, future) in zip(outcomes, batch, strict=True):
            outcome.committed()
            future.set_result(outcome.answer)
