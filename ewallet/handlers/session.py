"""request client_id / request session_token."""

from __future__ import annotations

from ewallet.domain import peer_sessions, session_store
from ewallet.handlers.context import Context
from ewallet.routes import Access, Route
from ewallet.schemas.base import NoParams
from ewallet.schemas.session import ClientIdIssued, SessionTokenIssued, SessionTokenParams


def request_client_id(_: NoParams, ctx: Context) -> ClientIdIssued:
    return ClientIdIssued(client_id=session_store.create_client_id(ctx.db, ctx.now, ctx.services.lifetimes))


def request_session_token(params: SessionTokenParams, ctx: Context) -> SessionTokenIssued:
    lifetimes = ctx.services.lifetimes
    peer_sessions.ensure_room(ctx.db, ctx.peer, ctx.now, lifetimes, ctx.settings.unused_sessions_per_peer)
    token, session = session_store.create_session(
        ctx.db, ctx.client_id or "", ctx.now, lifetimes, params.expiration_date, peer_sessions.stored_peer(ctx.peer)
    )
    pool = ctx.services.workers
    pool.assign(session.id, session_store.effective_expiry(session, lifetimes))
    ctx.on_rollback.append(lambda: pool.release(session.id))
    return SessionTokenIssued(session_token=token)


ROUTES = [
    Route("client", "request", "client_id", request_client_id, Access.ANONYMOUS, summary="Request a client id"),
    Route(
        "client",
        "request",
        "session_token",
        request_session_token,
        Access.CLIENT,
        SessionTokenParams,
        summary="Request a session token",
    ),
]
