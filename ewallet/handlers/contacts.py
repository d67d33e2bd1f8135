"""Contact lists and contact records (really deleted on unlink, unlike ledger objects)."""

from __future__ import annotations

from ewallet.domain import resources, views
from ewallet.domain.ownership import owned
from ewallet.domain.tree import CONTACT_RECORD_REFERENCE
from ewallet.handlers.context import Context
from ewallet.routes import Access, client_route
from ewallet.schemas.base import NoParams
from ewallet.schemas.resources import (
    ContactListReply,
    ContactListUnlinked,
    ContactRecordCreated,
    ContactRecordUnlinked,
    ContactRecordView,
    ListIdParams,
    NewContactRecordParams,
    RecordIdParams,
    ReferenceParams,
)
from ewallet.storage.models import ContactList, ContactRecord


def list_reply(ctx: Context, contact_list: ContactList) -> ContactListReply:
    return ContactListReply.of(views.list_data(ctx.db, contact_list, ctx.settings.max_listed_records))


def new_list(params: ReferenceParams, ctx: Context) -> ContactListReply:
    return list_reply(ctx, resources.create_contact_list(ctx.db, ctx.load_account(), ctx.now, params.reference))


def view_list(_: NoParams, ctx: Context) -> ContactListReply:
    list_id = ctx.user.active_contact_list_id
    return list_reply(ctx, owned(ctx.db, ContactList, list_id or 0, ctx.user, "contact list"))


def switch_list(params: ListIdParams, ctx: Context) -> ContactListReply:
    return list_reply(ctx, resources.switch_contact_list(ctx.db, ctx.load_account(), params.list_id, ctx.now))


def unlink_list(params: ListIdParams, ctx: Context) -> ContactListUnlinked:
    contact_list = resources.unlink_contact_list(ctx.db, ctx.load_account(), params.list_id, ctx.now)
    return ContactListUnlinked(contact_list=contact_list.id)


def new_record(params: NewContactRecordParams, ctx: Context) -> ContactRecordCreated:
    record = resources.new_contact_record(
        ctx.db,
        ctx.load_account(),
        params.contact_list,
        ctx.now,
        reference=params.user_reference or CONTACT_RECORD_REFERENCE,
        name=params.user_name,
        email=params.user_email,
        phone=params.user_phone,
        notes=params.notes,
    )
    return ContactRecordCreated(contact_record=record.id, contact_list=record.list_id)


def view_record(params: RecordIdParams, ctx: Context) -> ContactRecordView:
    record = owned(ctx.db, ContactRecord, params.record_id, ctx.user, "contact record")
    return ContactRecordView.of(views.contact_record_data(record))


def unlink_record(params: RecordIdParams, ctx: Context) -> ContactRecordUnlinked:
    record = resources.unlink_contact_record(ctx.db, ctx.load_account(), params.record_id, ctx.now)
    return ContactRecordUnlinked(contact_list=record.list_id, contact_record=record.id)


ROUTES = [
    client_route("new", "contact.list", new_list, Access.USER, ReferenceParams, "Create a contact list"),
    client_route(
        "view", "contact.list", view_list, Access.USER, summary="View the active contact list", read_only=True
    ),
    client_route("switch", "contact_list", switch_list, Access.OWNER, ListIdParams, "Switch contact list"),
    client_route("unlink", "contact.list", unlink_list, Access.OWNER, ListIdParams, "Delete a contact list"),
    client_route("new", "contact.record", new_record, Access.USER, NewContactRecordParams, "Add a contact record"),
    client_route(
        "view", "contact.record", view_record, Access.OWNER, RecordIdParams, "View a contact record", read_only=True
    ),
    client_route("unlink", "contact.record", unlink_record, Access.OWNER, RecordIdParams, "Delete a contact record"),
]
