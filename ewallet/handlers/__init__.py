"""Thin handlers, one module per area; each exports ROUTES."""

from __future__ import annotations

from ewallet.routes import Route


def all_routes() -> list[Route]:
    from ewallet.handlers import accounts, contacts, money, resources, session, sheets, system, timer

    modules = (session, accounts, resources, sheets, contacts, money, timer, system)
    return [route for module in modules for route in module.ROUTES]
