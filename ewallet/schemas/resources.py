"""Parameters and replies of the resource instructions (ewallets, clocks, sheets, records,
contacts). The four sheet kinds get one generated reply class each, keyed by their wire names,
and one set of named constructors that spell those names."""

from __future__ import annotations

from typing import Any

from pydantic import create_model

from ewallet.domain.kinds import SheetKind
from ewallet.domain.views import (
    ClockInfo,
    ContactListInfo,
    ContactRecordInfo,
    EwalletInfo,
    RecordInfo,
    SheetInfo,
)
from ewallet.schemas.base import Params, Reply
from ewallet.schemas.shapes import (
    RECORD_SHAPES,
    SHEET_SHAPES,
    ClockData,
    ContactRecordData,
    EwalletData,
    ListData,
    record_shape,
    sheet_shape,
)
from ewallet.schemas.values import RecordId, Text32, Text255, Text1000


class ReferenceParams(Params):
    reference: Text255 | None = None


class EwalletIdParams(Params):
    ewallet_id: RecordId


class ClockIdParams(Params):
    clock_id: RecordId


class SheetIdParams(Params):
    sheet_id: RecordId


class ListIdParams(Params):
    list_id: RecordId


class RecordIdParams(Params):
    record_id: RecordId


class NewContactRecordParams(Params):
    user_name: Text255
    user_email: Text255 | None = None
    user_phone: Text32 | None = None
    user_reference: Text255 | None = None
    notes: Text1000 | None = None
    contact_list: RecordId | None = None


class EwalletReply(Reply):
    ewallet: int
    ewallet_data: EwalletData

    @classmethod
    def of(cls, ewallet: EwalletInfo) -> EwalletReply:
        return cls(ewallet=ewallet.id, ewallet_data=EwalletData.of(ewallet))


class ClockReply(Reply):
    clock: int
    clock_data: ClockData

    @classmethod
    def of(cls, clock: ClockInfo) -> ClockReply:
        return cls(clock=clock.id, clock_data=ClockData.of(clock))


class EwalletUnlinked(Reply):
    credit_ewallet: int


class ClockUnlinked(Reply):
    credit_clock: int


class ContactListReply(Reply):
    contact_list: int
    list_data: ListData

    @classmethod
    def of(cls, contact_list: ContactListInfo) -> ContactListReply:
        return cls(contact_list=contact_list.id, list_data=ListData.of(contact_list))


class ContactRecordCreated(Reply):
    contact_record: int
    contact_list: int


class ContactRecordView(Reply):
    contact_list: int
    contact_record: int
    record_data: ContactRecordData

    @classmethod
    def of(cls, record: ContactRecordInfo) -> ContactRecordView:
        return cls(contact_list=record.list_id, contact_record=record.id, record_data=ContactRecordData.of(record))


class ContactListUnlinked(Reply):
    contact_list: int


class ContactRecordUnlinked(Reply):
    contact_list: int
    contact_record: int


def _reply(name: str, **fields: Any) -> type[Reply]:
    fields_spec: dict[str, Any] = {key: (kind, ...) for key, kind in fields.items()}
    return create_model(name, __base__=Reply, **fields_spec)


#: kind -> reply class: {"<kind>_sheet": id, "sheet_data": ...}
SHEET_REPLIES = {
    kind: _reply(f"{kind.title()}SheetReply", **{f"{kind}_sheet": int, "sheet_data": shape})
    for kind, shape in SHEET_SHAPES.items()
}
#: kind -> {"<kind>_sheet": id}
SHEET_UNLINKED = {kind: _reply(f"{kind.title()}SheetUnlinked", **{f"{kind}_sheet": int}) for kind in SHEET_SHAPES}
#: kind -> {"<kind>_sheet": id, "<kind>_record": id, "record_data": ...}
RECORD_VIEWS = {
    kind: _reply(f"{kind.title()}RecordView", **{f"{kind}_sheet": int, f"{kind}_record": int, "record_data": shape})
    for kind, shape in RECORD_SHAPES.items()
}
#: kind -> {"<kind>_sheet": id, "<kind>_record": id}
RECORD_UNLINKED = {
    kind: _reply(f"{kind.title()}RecordUnlinked", **{f"{kind}_sheet": int, f"{kind}_record": int})
    for kind in RECORD_SHAPES
}


def sheet_field(kind: SheetKind) -> str:
    """The key naming a sheet of this kind: also the target of its switch instruction."""
    return f"{kind.name}_sheet"


def record_field(kind: SheetKind) -> str:
    return f"{kind.name}_record"


def sheet_reply(sheet: SheetInfo) -> Reply:
    fields: dict[str, Any] = {sheet_field(sheet.kind): sheet.id, "sheet_data": sheet_shape(sheet)}
    return SHEET_REPLIES[sheet.kind.name](**fields)


def sheet_unlinked(kind: SheetKind, sheet_id: int) -> Reply:
    fields: dict[str, Any] = {sheet_field(kind): sheet_id}
    return SHEET_UNLINKED[kind.name](**fields)


def record_view(kind: SheetKind, record: RecordInfo) -> Reply:
    fields: dict[str, Any] = {
        sheet_field(kind): record.sheet_id,
        record_field(kind): record.id,
        "record_data": record_shape(record),
    }
    return RECORD_VIEWS[kind.name](**fields)


def record_unlinked(kind: SheetKind, sheet_id: int, record_id: int) -> Reply:
    fields: dict[str, Any] = {sheet_field(kind): sheet_id, record_field(kind): record_id}
    return RECORD_UNLINKED[kind.name](**fields)
