"""subscribe=events and unsubscribe=events: bind the connection to the active account's events,
or end that. The events themselves are carried by the connection (scheduling.events), after the
answer."""

from __future__ import annotations

from ewallet.domain import events
from ewallet.domain.errors import InvalidValue
from ewallet.handlers.context import Context, EventChannel
from ewallet.routes import Access, client_route
from ewallet.schemas.base import NoParams
from ewallet.schemas.events import Subscribed, SubscribeParams, Unsubscribed

NO_CHANNEL = "this connection cannot carry events: subscribe over TCP, or use GET /v1/events over HTTP"


def _channel(ctx: Context) -> EventChannel:
    if ctx.channel is None:
        raise InvalidValue(NO_CHANNEL)
    return ctx.channel


def subscribe(params: SubscribeParams, ctx: Context) -> Subscribed:
    channel = _channel(ctx)
    account = ctx.user
    kept = events.bounds(ctx.db, account.id)
    assert ctx.caller is not None  # a user-level route always has its caller
    terms = events.SubscriptionTerms(
        account_id=account.id,
        email=account.email,
        session_id=ctx.caller.session_id,
        # Without `after`, what is new from here on: nothing committed after this read is missed.
        after=params.after if params.after is not None else (kept.last or 0),
        kinds=events.filter_kinds(params.kinds),
        clock_low=params.clock_low,
        expires=ctx.caller.expires,
    )
    channel.offer(terms)
    return Subscribed(last_event=kept.last, oldest_event=kept.oldest)


def unsubscribe(_: NoParams, ctx: Context) -> Unsubscribed:
    _channel(ctx).withdraw()
    return Unsubscribed()


#: No typed HTTP endpoints: an HTTP answer cannot carry events. GET /v1/events (ewallet.http.events)
#: runs `subscribe` and streams; closing that stream is the HTTP unsubscribe.
ROUTES = [
    client_route(
        "subscribe",
        "events",
        subscribe,
        Access.USER,
        SubscribeParams,
        "Receive the account's events",
        read_only=True,
        typed_http=False,
    ),
    client_route(
        "unsubscribe",
        "events",
        unsubscribe,
        Access.USER,
        summary="Stop receiving events",
        read_only=True,
        typed_http=False,
    ),
]
