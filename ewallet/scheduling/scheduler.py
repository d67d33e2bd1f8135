"""The scheduler: takes a request line, resolves it, and runs it on a database thread in its
session's lane, under the transaction policy the settings chose. It is the seam between the
asyncio server and the synchronous pipeline, and the TCP edge: every line gets an answer."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from ewallet.domain.errors import EwalletError, RateLimited
from ewallet.domain.tokens import token_digest
from ewallet.logs import log_access
from ewallet.metrics import Metrics
from ewallet.protocol import wire
from ewallet.protocol.answers import Answer, failure, internal_failure, with_id
from ewallet.protocol.envelope import Instruction, parse_instruction, request_id_of
from ewallet.routes import Access, RouteTable
from ewallet.scheduling.batching import BatchThread
from ewallet.scheduling.events import ConnectionEvents
from ewallet.scheduling.lanes import Lanes
from ewallet.scheduling.ratelimit import RateLimiter
from ewallet.settings import Settings

log = logging.getLogger(__name__)

#: The route of a line that named none (bad JSON, an unknown action), in the access line.
UNRESOLVED = "-"
_RATE_LIMITED = frozenset({Access.ANONYMOUS, Access.CLIENT})
#: Added to a password thread's nice value (Linux caps it at 19, the lowest priority). Argon2 is
#: built to hold whole cores for a while: at the same priority, on a machine with few cores, a
#: transfer would wait behind somebody's login for the CPU instead of for the writer (measured
#: on 2 cores: p99 80-100 ms at +10, 25-55 ms at +19, against 25 ms without password load).
#: An idle CPU still goes to the hashing; only when everything else wants it does a login wait.
PASSWORD_NICENESS = 19


def _yield_the_cpu() -> None:
    """Lower this thread's CPU priority (Linux keeps a nice value per thread, and the threads
    libargon2 starts for its lanes inherit it). Elsewhere the call would name a process, so
    nothing is done."""
    if sys.platform != "linux":
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + PASSWORD_NICENESS)
    except OSError as exc:
        log.debug("password threads keep their priority: %s", exc)


class Scheduler:
    """Instructions of one session token run in order; others run concurrently. Under the
    "grouped" policy writes go to the one writer thread and reads to the reader threads;
    under "pooled" everything runs on a thread pool sized by `settings.threads`. A route's
    password work runs first, in its lane, on the password threads (never on the writer)."""

    def __init__(
        self,
        settings: Settings,
        table: RouteTable,
        run_alone: Callable[[Instruction, str], Answer],
        prepare: Callable[[Instruction, str], Instruction | Answer],
        writer: BatchThread | None = None,
        readers: list[BatchThread] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics if metrics is not None else Metrics()
        self.table = table
        self.run_alone = run_alone
        self.prepare = prepare
        self.writer = writer
        self.readers = readers or []
        self._next_reader = 0
        self.lanes = Lanes()
        self.executor = ThreadPoolExecutor(max_workers=settings.threads, thread_name_prefix="ewallet-db")
        # Password work gets threads of its own: a queue of logins then waits for these, never
        # for the writer or the instruction pool, and at most this many Argon2 buffers exist.
        self.password_executor = ThreadPoolExecutor(
            max_workers=settings.password_threads,
            thread_name_prefix="ewallet-password",
            initializer=_yield_the_cpu,
        )
        self.anonymous_limit = RateLimiter(settings.anon_rate, 60.0, time.monotonic)

    async def handle_line(self, line: bytes, peer: str, channel: ConnectionEvents | None = None) -> bytes:
        return wire.encode(await self.handle(line, peer, channel))

    async def handle(self, line: bytes, peer: str, channel: ConnectionEvents | None = None) -> Answer:
        """The answer to one request line. A domain error is its answer; anything else is
        logged under a reference and answered `internal_error`: no line goes unanswered.
        `channel`: the connection's event channel, when it can carry events."""
        started = time.perf_counter()
        request_id = None
        instruction: Instruction | None = None
        try:
            obj = wire.decode(line)
            request_id, _ = request_id_of(obj)
            instruction = parse_instruction(obj, self.table, self.settings.system_key)
            if channel is not None:
                instruction = replace(instruction, channel=channel)
            answer = await self._run(instruction, peer)
        except EwalletError as error:
            answer = failure(error)
        except Exception as exc:
            answer = internal_failure(exc, "a request line")
        self._answered(instruction, peer, answer, request_id, started)
        if channel is not None:
            channel.answered(not answer.get("failed"))
        return with_id(answer, request_id)

    async def run(self, instruction: Instruction, peer: str, channel: ConnectionEvents | None = None) -> Answer:
        """The answer (without the request id) to a resolved instruction."""
        started = time.perf_counter()
        if channel is not None:
            instruction = replace(instruction, channel=channel)
        answer = await self._run(instruction, peer)
        self._answered(instruction, peer, answer, instruction.request_id, started)
        if channel is not None:
            channel.answered(not answer.get("failed"))
        return answer

    def _answered(
        self, instruction: Instruction | None, peer: str, answer: Answer, request_id: object, started: float
    ) -> None:
        """Every answered instruction, TCP or HTTP, passes here once: its metrics and access line."""
        seconds = time.perf_counter() - started
        route = instruction.route.name if instruction is not None else UNRESOLVED
        code = str(answer.get("code", "unknown")) if answer.get("failed") else "ok"
        caller = instruction.trace.caller if instruction is not None else None
        self.metrics.answered(route, code, seconds)
        log_access(peer, route, code, seconds, request_id, caller)

    async def _run(self, instruction: Instruction, peer: str) -> Answer:
        route = instruction.route
        # Both anonymous `request` routes (client id and session token) count, and so does
        # creating an account (it costs a hash).
        limited = route.rate_limited and (route.access in _RATE_LIMITED or route.counts_as_anonymous)
        if limited and not self.anonymous_limit.allow(peer):
            return failure(RateLimited("too many anonymous requests from this address"))
        token = instruction.session_token
        if isinstance(token, str) and route.access is not Access.SYSTEM:
            async with self.lanes.hold(token_digest(token)):
                return await self._execute(instruction, peer)
        return await self._execute(instruction, peer)

    async def _execute(self, instruction: Instruction, peer: str) -> Answer:
        loop = asyncio.get_running_loop()
        if instruction.route.prepare is not None:
            prepared = await loop.run_in_executor(self.password_executor, self.prepare, instruction, peer)
            if not isinstance(prepared, Instruction):
                return prepared
            instruction = prepared
        if self.writer is not None and not instruction.route.read_only:
            return await self.writer.submit(instruction, peer)
        if self.readers and instruction.route.read_only:
            self._next_reader = (self._next_reader + 1) % len(self.readers)
            return await self.readers[self._next_reader].submit(instruction, peer)
        return await loop.run_in_executor(self.executor, self.run_alone, instruction, peer)

    def close(self) -> None:
        for thread in [*self.readers, *([self.writer] if self.writer else [])]:
            thread.close()
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.password_executor.shutdown(wait=True, cancel_futures=True)
