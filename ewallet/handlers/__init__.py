"""Thin handlers, one module per area; each exports ROUTES. The route table is built here from
all of them: HTTP, OpenAPI, the permission sheet and the docs are generated from that table."""

from __future__ import annotations

import functools

from ewallet.handlers import (
    accounts,
    contacts,
    events,
    health,
    history,
    money,
    resources,
    session,
    sheets,
    system,
    timer,
)
from ewallet.routes import RouteTable


@functools.cache
def build_route_table() -> RouteTable:
    """The table never changes in a process: built once (reading every handler's type hints
    takes a while), shared by every app the process builds."""
    modules = (session, accounts, resources, sheets, history, contacts, money, timer, events, system, health)
    return RouteTable(route for module in modules for route in module.ROUTES)
