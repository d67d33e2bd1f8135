"""history: one kind of the active account's records, newest first, a page at a time with a
cursor. One handler, bound to each of the four kinds."""

from __future__ import annotations

from functools import partial

from ewallet.domain import history
from ewallet.domain.kinds import KINDS, TIME, SheetKind
from ewallet.handlers.context import Context
from ewallet.routes import Access, Route, client_route
from ewallet.schemas.base import Reply
from ewallet.schemas.history import HISTORY_REPLIES, HistoryParams, history_reply, params_of


def show_history(kind: SheetKind, params: HistoryParams, ctx: Context) -> Reply:
    page = history.page(ctx.db, kind, ctx.user, params.filters(), params.limit, params.cursor, ctx.now)
    return history_reply(kind, page)


def route_for(kind: SheetKind) -> Route:
    # A time history settles a timer that ran out (as viewing the record does), so it needs a
    # write transaction; the other kinds only read.
    return client_route(
        "history", kind.name, partial(show_history, kind), Access.USER, params_of(kind),
        f"List {kind.name} records, newest first, a page at a time", reply=HISTORY_REPLIES[kind.name],
        read_only=kind is not TIME, settles=kind is TIME,
    )  # fmt: skip


ROUTES = [route_for(kind) for kind in KINDS]
