"""Threads that take instructions in batches. Each batch's answers go back to the event loop in
one callback, so a busy server wakes its loop once per batch rather than once per instruction;
and a fixed, small number of threads keeps them from fighting over the interpreter lock."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable

from ewallet.pipeline.policies import Work
from ewallet.protocol.answers import Answer, internal_failure
from ewallet.protocol.envelope import Instruction

log = logging.getLogger(__name__)

_Item = tuple[Instruction, str, "asyncio.Future[Answer]", asyncio.AbstractEventLoop]


def _deliver(results: list[tuple[asyncio.Future[Answer], Answer]]) -> None:
    for future, answer in results:
        if not future.done():  # a cancelled waiter (its connection went away) needs nothing
            future.set_result(answer)


class BatchThread:
    """Runs `process(batch) -> answers` on its own thread for batches of up to `max_batch`."""

    def __init__(
        self,
        name: str,
        process: Callable[[list[Work]], list[Answer]],
        max_batch: int = 64,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.name = name
        #: Told each batch's size (the batch-size histogram).
        self.on_batch = on_batch
        self.process = process
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, instruction: Instruction, peer: str) -> asyncio.Future[Answer]:
        """Queue an instruction; call from the event loop, await the returned future."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Answer] = loop.create_future()
        self._queue.put((instruction, peer, future, loop))
        return future

    def close(self) -> None:
        """Finish everything queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch, stop = [item], False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            if self.on_batch is not None:
                self.on_batch(len(batch))
            answers = self._answers([(instruction, peer) for instruction, peer, _, _ in batch])
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Answer], Answer]]] = {}
            for (_, _, future, loop), answer in zip(batch, answers, strict=True):
                by_loop.setdefault(loop, []).append((future, answer))
            for loop, results in by_loop.items():
                try:
                    loop.call_soon_threadsafe(_deliver, results)
                except RuntimeError:  # the loop is closed: nobody waits for these answers
                    log.debug("dropped %d answers for a closed event loop", len(results))
            if stop:
                return

    def _answers(self, batch: list[Work]) -> list[Answer]:
        """Every instruction of the batch gets an answer, whatever `process` does: a waiter
        whose future is never resolved would hold its session's lane for good."""
        try:
            answers = self.process(batch)
            if len(answers) == len(batch):
                return answers
            raise RuntimeError(f"{len(answers)} answers for a batch of {len(batch)}")
        except Exception as exc:
            answer = internal_failure(exc, self.name)
            return [dict(answer) for _ in batch]
