"""System instructions: workers and sessions. Guarded by the system key before they run."""

from __future__ import annotations

import functools

from sqlalchemy.orm import Session as Db

from ewallet.domain import session_store
from ewallet.domain.errors import NotFound
from ewallet.domain.session_views import describe
from ewallet.handlers.context import Context
from ewallet.routes import system_route
from ewallet.schemas.base import NoParams
from ewallet.schemas.shapes import WorkerData
from ewallet.schemas.system import (
    CleanupSessionsParams,
    NewSessionParams,
    SessionIdParams,
    SessionInfo,
    SessionsCleaned,
    WorkersCleaned,
    WorkersInfo,
    WorkerStarted,
)
from ewallet.storage.models import EwalletSession


def new_worker(_: NoParams, ctx: Context) -> WorkerStarted:
    return WorkerStarted(worker=ctx.services.workers.new_worker())


def new_session(params: NewSessionParams, ctx: Context) -> SessionInfo:
    lifetimes = ctx.services.lifetimes
    session = session_store.create_system_session(ctx.db, ctx.now, lifetimes, params.reference)
    pool = ctx.services.workers
    pool.assign(session.id, session_store.effective_expiry(session, lifetimes))
    ctx.on_rollback.append(lambda: pool.release(session.id))
    return session_info(ctx, session)


def interrogate_session(params: SessionIdParams, ctx: Context) -> SessionInfo:
    session = ctx.db.get(EwalletSession, params.session_id)
    if session is None:
        raise NotFound("no session with that session_id")
    return session_info(ctx, session)


def interrogate_workers(_: NoParams, ctx: Context) -> WorkersInfo:
    return WorkersInfo(
        workers={
            w.id: WorkerData(
                create_date=w.create_date,
                state_code=w.state_code,
                state_label=w.state_label,
                state_timestamp=w.state_timestamp,
                sessions=list(w.sessions),
            )
            for w in ctx.services.workers.snapshot()
        }
    )


def cleanup_sessions(params: CleanupSessionsParams, ctx: Context) -> SessionsCleaned:
    if params.session_id is None and params.session_token is None and params.client_id is None:
        ids = session_store.expired_sessions(ctx.db, ctx.now, ctx.services.lifetimes)
    else:
        ids = session_store.sessions_matching(
            ctx.db, session_id=params.session_id, token=params.session_token, client_id=params.client_id
        )
    removed = remove_sessions(ctx.db, ctx, ids)
    return SessionsCleaned(sessions_cleaned=removed)


def remove_sessions(db: Db, ctx: Context, ids: list[int]) -> int:
    removed = session_store.remove_sessions(db, ids)
    pool = ctx.services.workers
    ctx.after_commit.extend(functools.partial(pool.release, sid) for sid in ids)
    return removed


def cleanup_workers(_: NoParams, ctx: Context) -> WorkersCleaned:
    ctx.services.workers.prune_expired()
    removed, reserved, remaining = ctx.services.workers.cleanup()
    return WorkersCleaned(workers_cleaned=removed, worker_reserved=reserved, worker_pool=remaining)


def session_info(ctx: Context, session: EwalletSession) -> SessionInfo:
    return SessionInfo.of(describe(ctx.db, session), ctx.services.workers.worker_of(session.id))


ROUTES = [
    system_route("new", "worker", new_worker, summary="Start a new worker"),
    system_route("new", "session", new_session, NewSessionParams, "Create a session bound to no client id"),
    system_route("interogate", "session", interrogate_session, SessionIdParams, "Show one session", read_only=True),
    system_route("interogate", "workers", interrogate_workers, summary="Show the worker pool", read_only=True),
    system_route("cleanup", "sessions", cleanup_sessions, CleanupSessionsParams, "Remove expired or named sessions"),
    system_route("cleanup", "workers", cleanup_workers, summary="Remove vacant workers but one"),
]
