"""Workers: this process's execution lanes. A worker serves up to `session_limit` live
sessions; a session goes to the first non-full worker, a new worker is started when all are
full, up to `worker_limit`. The pool is in memory and thread-safe: handlers running in database
threads reserve places, and the dispatcher undoes a reservation whose transaction rolled back."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ewallet.protocol.errors import Capacity

VACANT, IN_USE, FULL = 0, 1, 2
STATE_LABELS = {VACANT: "vacant", IN_USE: "in_use", FULL: "full"}


@dataclass
class Worker:
    id: int
    create_date: datetime
    state_timestamp: datetime
    state_code: int = VACANT
    #: session id -> expiration instant
    sessions: dict[int, datetime] = field(default_factory=dict)

    def live_sessions(self, now: datetime) -> list[int]:
        return sorted(sid for sid, expires in self.sessions.items() if expires > now)


@dataclass(frozen=True)
class WorkerView:
    id: int
    create_date: datetime
    state_code: int
    state_label: str
    state_timestamp: datetime
    sessions: tuple[int, ...]


class WorkerRegistry:
    def __init__(self, worker_limit: int, session_limit: int, now: Callable[[], datetime]) -> None:
        self.worker_limit = worker_limit
        self.session_limit = session_limit
        self._now = now
        self._workers: dict[int, Worker] = {}
        self._session_worker: dict[int, int] = {}
        self._next_id = 1
        self._lock = threading.Lock()

    # -- placement -------------------------------------------------------------------------------

    def new_worker(self) -> int:
        with self._lock:
            return self._start_worker().id

    def assign(self, session_id: int, expires: datetime) -> int:
        """Place a new session; Capacity when every worker is full and no more may start."""
        with self._lock:
            return self._place(session_id, expires, strict=True)

    def adopt(self, session_id: int, expires: datetime) -> int:
        """Place a session this process has not seen (made before a restart or by another
        process). An existing session is never refused: when all are full it joins the
        least-loaded worker."""
        with self._lock:
            known = self._session_worker.get(session_id)
            if known is not None:
                self._workers[known].sessions[session_id] = expires
                return known
            return self._place(session_id, expires, strict=False)

    def release(self, session_id: int) -> None:
        with self._lock:
            worker_id = self._session_worker.pop(session_id, None)
            if worker_id is not None and worker_id in self._workers:
                worker = self._workers[worker_id]
                worker.sessions.pop(session_id, None)
                self._refresh(worker, self._now())

    def worker_of(self, session_id: int) -> int | None:
        with self._lock:
            return self._session_worker.get(session_id)

    # -- maintenance -----------------------------------------------------------------------------

    def prune_expired(self) -> int:
        """Forget sessions past their expiry; returns how many were forgotten."""
        now = self._now()
        with self._lock:
            dropped = 0
            for worker in self._workers.values():
                for sid in [s for s, expires in worker.sessions.items() if expires <= now]:
                    del worker.sessions[sid]
                    self._session_worker.pop(sid, None)
                    dropped += 1
                self._refresh(worker, now)
            return dropped

    def cleanup(self) -> tuple[int, int | None, list[int]]:
        """Remove vacant workers but the lowest-id one; (removed, reserved id, remaining ids)."""
        now = self._now()
        with self._lock:
            for worker in self._workers.values():
                self._refresh(worker, now)
            vacant = sorted(w.id for w in self._workers.values() if w.state_code == VACANT)
            reserved = vacant[0] if vacant else None
            for worker_id in vacant[1:]:
                for sid in self._workers[worker_id].sessions:
                    self._session_worker.pop(sid, None)
                del self._workers[worker_id]
            return len(vacant[1:]), reserved, sorted(self._workers)

    def snapshot(self) -> list[WorkerView]:
        now = self._now()
        with self._lock:
            views = []
            for worker in sorted(self._workers.values(), key=lambda w: w.id):
                self._refresh(worker, now)
                views.append(
                    WorkerView(
                        id=worker.id,
                        create_date=worker.create_date,
                        state_code=worker.state_code,
                        state_label=STATE_LABELS[worker.state_code],
                        state_timestamp=worker.state_timestamp,
                        sessions=tuple(worker.live_sessions(now)),
                    )
                )
            return views

    # -- internals (lock held) -------------------------------------------------------------------

    def _place(self, session_id: int, expires: datetime, *, strict: bool) -> int:
        now = self._now()
        target = None
        for worker in sorted(self._workers.values(), key=lambda w: w.id):
            self._refresh(worker, now)
            if worker.state_code != FULL:
                target = worker
                break
        if target is None:
            if len(self._workers) < self.worker_limit:
                target = self._start_worker()
            elif strict:
                raise Capacity("every worker is full")
            else:
                target = min(self._workers.values(), key=lambda w: (len(w.live_sessions(now)), w.id))
        target.sessions[session_id] = expires
        self._session_worker[session_id] = target.id
        self._refresh(target, now)
        return target.id

    def _start_worker(self) -> Worker:
        if len(self._workers) >= self.worker_limit:
            raise Capacity("the worker limit is reached")
        now = self._now()
        worker = Worker(id=self._next_id, create_date=now, state_timestamp=now)
        self._next_id += 1
        self._workers[worker.id] = worker
        return worker

    def _refresh(self, worker: Worker, now: datetime) -> None:
        live = len(worker.live_sessions(now))
        state = VACANT if live == 0 else FULL if live >= self.session_limit else IN_USE
        if state != worker.state_code:
            worker.state_code = state
            worker.state_timestamp = now
