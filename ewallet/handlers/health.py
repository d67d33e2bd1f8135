"""`ping`: is this process alive and does its database answer? Anonymous and not rate-limited,
for load balancers' health checks.

It must answer while the database is down. The pipeline's transaction never reaches the
database for it (no authentication, and the session connects lazily), so the handler probes
with a short connection of its own and says "unreachable" instead of failing."""

from __future__ import annotations

from ewallet import __version__
from ewallet.handlers.context import Context
from ewallet.routes import Access, client_route
from ewallet.schemas.health import PingParams, Pong
from ewallet.storage.database import database_answers


def ping(_: PingParams, ctx: Context) -> Pong:
    return Pong(database="ok" if database_answers(ctx.db.get_bind()) else "unreachable", version=__version__)


ROUTES = [
    client_route(
        "ping",
        None,
        ping,
        Access.ANONYMOUS,
        PingParams,
        summary="Is the server alive and does its database answer",
        read_only=True,
        rate_limited=False,
    ),
]
