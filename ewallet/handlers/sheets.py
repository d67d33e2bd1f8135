"""The four sheet kinds (transfer, invoice, time, conversion): new, view, switch and unlink of
sheets; view and unlink of records. One set of handlers, bound to each kind."""

from __future__ import annotations

from functools import partial
from typing import Any

from ewallet.domain import resources, timer, views
from ewallet.domain.kinds import KINDS, TIME, SheetKind
from ewallet.domain.ownership import owned
from ewallet.handlers.context import Context
from ewallet.routes import Access, Route, client_route
from ewallet.schemas.base import NoParams, Params, Reply
from ewallet.schemas.resources import (
    RECORD_UNLINKED,
    RECORD_VIEWS,
    SHEET_REPLIES,
    SHEET_UNLINKED,
    ListIdParams,
    RecordIdParams,
    ReferenceParams,
    SheetIdParams,
    record_unlinked,
    record_view,
    sheet_field,
    sheet_reply,
    sheet_unlinked,
)


def show_sheet(kind: SheetKind, ctx: Context, sheet: Any) -> Reply:
    return sheet_reply(views.sheet_data(ctx.db, kind, sheet, ctx.settings.max_listed_records))


def new_sheet(kind: SheetKind, params: ReferenceParams, ctx: Context) -> Reply:
    return show_sheet(kind, ctx, resources.create_sheet(ctx.db, kind, ctx.load_account(), ctx.now, params.reference))


def view_sheet(kind: SheetKind, _: NoParams, ctx: Context) -> Reply:
    sheet = resources.active_sheet(ctx.db, kind, ctx.user)
    if kind is TIME:
        timer.settle_clock(ctx.db, sheet.clock_id, ctx.now)
    return show_sheet(kind, ctx, sheet)


def switch_sheet(kind: SheetKind, params: SheetIdParams, ctx: Context) -> Reply:
    return show_sheet(kind, ctx, resources.switch_sheet(ctx.db, kind, ctx.load_account(), params.sheet_id, ctx.now))


def unlink_sheet(kind: SheetKind, params: ListIdParams, ctx: Context) -> Reply:
    sheet = resources.unlink_sheet(ctx.db, kind, ctx.load_account(), params.list_id, ctx.now)
    return sheet_unlinked(kind, sheet.id)


def view_record(kind: SheetKind, params: RecordIdParams, ctx: Context) -> Reply:
    record = owned(ctx.db, kind.record, params.record_id, ctx.user, f"{kind.name} record")
    if kind is TIME:
        timer.settle_record(ctx.db, record, ctx.now)
    return record_view(kind, views.record_data(record))


def unlink_record(kind: SheetKind, params: RecordIdParams, ctx: Context) -> Reply:
    record = resources.unlink_record(ctx.db, kind, ctx.load_account(), params.record_id, ctx.now)
    return record_unlinked(kind, record.sheet_id, record.id)


def routes_for(kind: SheetKind) -> list[Route]:
    name, user, owner = kind.name, Access.USER, Access.OWNER
    a = "an" if name[0] in "aeiou" else "a"
    sheet, no_params = SHEET_REPLIES[name], NoParams
    specs: list[tuple[str, str, Any, Access, type[Params], str, type[Reply]]] = [
        ("new", f"{name}.list", new_sheet, user, ReferenceParams, f"Create {a} {name} sheet", sheet),
        ("view", f"{name}.list", view_sheet, user, no_params, f"View the active {name} sheet", sheet),
        ("switch", sheet_field(kind), switch_sheet, owner, SheetIdParams, f"Switch {name} sheet", sheet),
        ("unlink", f"{name}.list", unlink_sheet, owner, ListIdParams, f"Unlink {a} {name} sheet", SHEET_UNLINKED[name]),
        ("view", f"{name}.record", view_record, owner, RecordIdParams, f"View {a} {name} record", RECORD_VIEWS[name]),
        ("unlink", f"{name}.record", unlink_record, owner, RecordIdParams, f"Unlink {a} {name} record",
         RECORD_UNLINKED[name]),
    ]  # fmt: skip
    return [
        client_route(action, target, partial(handler, kind), access, params, summary, reply=reply,
                     read_only=action == "view" and kind is not TIME)
        for action, target, handler, access, params, summary, reply in specs
    ]  # fmt: skip


ROUTES = [route for kind in KINDS for route in routes_for(kind)]
