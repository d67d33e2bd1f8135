"""Credit ewallets and credit clocks: new, view, switch, unlink."""

from __future__ import annotations

from ewallet.domain import resources, timer, views
from ewallet.domain.errors import NotFound
from ewallet.handlers.context import Context
from ewallet.routes import Access, client_route
from ewallet.schemas.base import NoParams
from ewallet.schemas.resources import (
    ClockIdParams,
    ClockReply,
    ClockUnlinked,
    EwalletIdParams,
    EwalletReply,
    EwalletUnlinked,
    ReferenceParams,
)
from ewallet.storage.models import CreditClock, CreditEwallet


def ewallet_reply(ctx: Context, ewallet: CreditEwallet) -> EwalletReply:
    return EwalletReply.of(views.ewallet_data(ctx.db, ewallet))


def clock_reply(ctx: Context, clock: CreditClock) -> ClockReply:
    return ClockReply.of(views.clock_data(ctx.db, clock))


def new_ewallet(params: ReferenceParams, ctx: Context) -> EwalletReply:
    return ewallet_reply(ctx, resources.create_ewallet(ctx.db, ctx.load_account(), ctx.now, params.reference))


def new_clock(params: ReferenceParams, ctx: Context) -> ClockReply:
    return clock_reply(ctx, resources.create_clock(ctx.db, ctx.load_account(), ctx.now, params.reference))


def view_ewallet(_: NoParams, ctx: Context) -> EwalletReply:
    ewallet = views.row(ctx.db, CreditEwallet, ctx.user.active_ewallet_id)
    if ewallet is None:
        raise NotFound("the account has no active credit ewallet")
    return ewallet_reply(ctx, ewallet)


def view_clock(_: NoParams, ctx: Context) -> ClockReply:
    clock = resources.active_clock(ctx.db, ctx.user)
    timer.settle_clock(ctx.db, clock.id, ctx.now)
    return clock_reply(ctx, clock)


def switch_ewallet(params: EwalletIdParams, ctx: Context) -> EwalletReply:
    return ewallet_reply(ctx, resources.switch_ewallet(ctx.db, ctx.load_account(), params.ewallet_id, ctx.now))


def switch_clock(params: ClockIdParams, ctx: Context) -> ClockReply:
    return clock_reply(ctx, resources.switch_clock(ctx.db, ctx.load_account(), params.clock_id, ctx.now))


def unlink_ewallet(params: EwalletIdParams, ctx: Context) -> EwalletUnlinked:
    ewallet = resources.unlink_ewallet(ctx.db, ctx.load_account(), params.ewallet_id, ctx.now)
    return EwalletUnlinked(credit_ewallet=ewallet.id)


def unlink_clock(params: ClockIdParams, ctx: Context) -> ClockUnlinked:
    clock = resources.unlink_clock(ctx.db, ctx.load_account(), params.clock_id, ctx.now)
    return ClockUnlinked(credit_clock=clock.id)


ROUTES = [
    client_route("new", "credit.ewallet", new_ewallet, Access.USER, ReferenceParams, "Create a credit ewallet"),
    client_route("new", "credit.clock", new_clock, Access.USER, ReferenceParams, "Create a credit clock"),
    client_route(
        "view", "credit.ewallet", view_ewallet, Access.USER, summary="View the active credit ewallet", read_only=True
    ),
    client_route("view", "credit.clock", view_clock, Access.USER, summary="View the active credit clock"),
    client_route("switch", "credit.ewallet", switch_ewallet, Access.OWNER, EwalletIdParams, "Switch credit ewallet"),
    client_route("switch", "credit.clock", switch_clock, Access.OWNER, ClockIdParams, "Switch credit clock"),
    client_route("unlink", "credit.ewallet", unlink_ewallet, Access.OWNER, EwalletIdParams, "Unlink a credit ewallet"),
    client_route("unlink", "credit.clock", unlink_clock, Access.OWNER, ClockIdParams, "Unlink a credit clock"),
]
