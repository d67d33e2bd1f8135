"""Thin handlers, one module per area; each exports ROUTES."""

from __future__ import annotations

from ewallet.routes import Route


def all_routes() -> list[Route]:
    from ewallet.handlers import accounts, contacts, resources, session, sheets, system

    return [*session.ROUTES, *accounts.ROUTES, *resources.ROUTES, *sheets.ROUTES, *contacts.ROUTES, *system.ROUTES]
