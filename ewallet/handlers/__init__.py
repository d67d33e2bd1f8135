"""Thin handlers, one module per area; each exports ROUTES."""

from __future__ import annotations

from ewallet.routes import Route


def all_routes() -> list[Route]:
    from ewallet.handlers import session, system

    return [*session.ROUTES, *system.ROUTES]
