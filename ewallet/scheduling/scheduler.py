"""The scheduler: takes a request line, resolves it, and runs it on a database thread in
its session's lane. It is the seam between the asyncio server and the synchronous domain."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ewallet.domain.errors import EwalletError, RateLimited
from ewallet.domain.tokens import token_digest
from ewallet.pipeline.attempt import Dispatcher
from ewallet.protocol.envelope import Instruction, failure, parse_instruction, request_id_of, with_id
from ewallet.routes import Access, RouteTable
from ewallet.scheduling.batching import BatchThread
from ewallet.scheduling.lanes import Lanes
from ewallet.scheduling.ratelimit import RateLimiter
from ewallet.settings import Settings
from ewallet.transport import wire

log = logging.getLogger(__name__)

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
    """handle_line(bytes, peer) -> answer bytes. Instructions of one session token run in order;
    others run concurrently on a thread pool sized by `settings.threads`. A route's password
    work runs first, in its lane, on the password threads (never on the SQLite writer)."""

    def __init__(
        self,
        settings: Settings,
        table: RouteTable,
        dispatcher: Dispatcher,
        writer: BatchThread | None = None,
        readers: list[BatchThread] | None = None,
    ) -> None:
        self.settings = settings
        self.table = table
        self.dispatcher = dispatcher
        #: SQLite: one writer thread (group commit) and a few reader threads; PostgreSQL: none,
        #: every instruction goes to the thread pool.
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

    async def handle_line(self, line: bytes, peer: str) -> bytes:
        return wire.encode(await self.handle_request(line, peer))

    async def handle_request(self, line: bytes | Any, peer: str) -> dict[str, Any]:
        """An answer object for one request: raw line bytes, or an already decoded value."""
        request_id = None
        try:
            obj = wire.decode(bytes(line)) if isinstance(line, bytes | bytearray) else line
            request_id, _ = request_id_of(obj)
            instruction = parse_instruction(obj, self.table, self.settings.system_key)
            # §5.4: both anonymous `request` routes (client id and session token) count, and
            # (§11) creating an account.
            route = instruction.route
            counted = route.access in _RATE_LIMITED or route.counts_as_anonymous
            if counted and not self.anonymous_limit.allow(peer):
                raise RateLimited("too many anonymous requests from this address")
        except EwalletError as error:
            return with_id(failure(error), request_id)
        answer = await self.run(instruction, peer)
        return with_id(answer, request_id)

    async def run(self, instruction: Instruction, peer: str) -> dict[str, Any]:
        token = instruction.session_token
        if isinstance(token, str) and instruction.route.access is not Access.SYSTEM:
            async with self.lanes.hold(token_digest(token)):
                return await self._execute(instruction, peer)
        return await self._execute(instruction, peer)

    async def _execute(self, instruction: Instruction, peer: str) -> dict[str, Any]:
        if instruction.route.prepare is not None:
            loop = asyncio.get_running_loop()
            prepared = await loop.run_in_executor(self.password_executor, self.dispatcher.prepare, instruction, peer)
            if isinstance(prepared, dict):
                return prepared
            instruction = prepared
        if self.writer is not None and not instruction.route.read_only:
            return await self.writer.submit(instruction, peer)
        if self.readers and instruction.route.read_only:
            self._next_reader = (self._next_reader + 1) % len(self.readers)
            return await self.readers[self._next_reader].submit(instruction, peer)
        return await asyncio.get_running_loop().run_in_executor(self.executor, self.dispatcher.run, instruction, peer)

    def close(self) -> None:
        for thread in [*self.readers, *([self.writer] if self.writer else [])]:
            thread.close()
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.password_executor.shutdown(wait=True, cancel_futures=True)
