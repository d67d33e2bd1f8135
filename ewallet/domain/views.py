"""Read models: what an account, its ewallets, clocks, sheets, contact lists and records look like,
as frozen values with the domain's names. The schemas turn them into the protocol's shapes and own
every wire name. Archives list every visible owned object of their scope, ordered by id."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Select, bindparam, literal_column, select, union_all
from sqlalchemy.orm import Session as Db

from ewallet.domain import session_store
from ewallet.domain.kinds import CONVERSION, INVOICE, TIME, TRANSFER, SheetKind
from ewallet.storage.models import (
    Account,
    ContactList,
    ContactRecord,
    ConversionRecord,
    CreditClock,
    CreditEwallet,
    InvoiceRecord,
    LoginRecord,
    LogoutRecord,
    TimeRecord,
    TransferRecord,
)
from ewallet.storage.statements import Statement

#: {id: reference} of the visible children of one scope, ordered by id.
Archive = dict[int, str]


@dataclass(frozen=True)
class Children:
    """One kind of child of an owner: the active one and all the visible ones."""

    active_id: int | None
    archive: Archive


@dataclass(frozen=True)
class Stamped:
    id: int
    reference: str
    create_date: datetime
    write_date: datetime


@dataclass(frozen=True)
class AccountInfo:
    id: int
    name: str
    create_date: datetime
    write_date: datetime
    email: str
    phone: str | None
    alias: str | None
    logged_in: bool
    ewallets: Children
    contact_lists: Children


@dataclass(frozen=True)
class EwalletInfo(Stamped):
    account_id: int
    credits: int
    clocks: Children
    transfer_sheets: Children
    invoice_sheets: Children


@dataclass(frozen=True)
class ClockInfo(Stamped):
    ewallet_id: int
    hundredths: int
    state: str
    time_sheets: Children
    conversion_sheets: Children


@dataclass(frozen=True)
class SheetInfo(Stamped):
    kind: SheetKind
    parent_id: int
    #: The newest records, at most the listing limit.
    records: Archive


@dataclass(frozen=True)
class ContactListInfo(Stamped):
    account_id: int
    records: Archive


@dataclass(frozen=True)
class TransferRecordInfo(Stamped):
    sheet_id: int | None
    transfer_type: str
    transfer_from: str
    transfer_to: str
    credits: int


@dataclass(frozen=True)
class InvoiceRecordInfo(Stamped):
    sheet_id: int
    credits: int
    currency: str
    cost: Decimal
    seller: str
    notes: str | None


@dataclass(frozen=True)
class ConversionRecordInfo(Stamped):
    sheet_id: int
    conversion_type: str
    hundredths: int
    credits: int


@dataclass(frozen=True)
class TimeRecordInfo(Stamped):
    sheet_id: int
    time_start: datetime
    time_stop: datetime | None
    spent_hundredths: int
    pending_hundredths: int
    pending_count: int


@dataclass(frozen=True)
class ContactRecordInfo(Stamped):
    list_id: int
    name: str
    email: str | None
    phone: str | None
    notes: str | None


RecordInfo = TransferRecordInfo | InvoiceRecordInfo | ConversionRecordInfo | TimeRecordInfo


def _listing(model: Any, column: str) -> Select[Any]:
    """(id, reference) of the visible children in one scope of one owner."""
    table = model.__table__
    query = select(table.c.id, table.c.reference).where(table.c[column] == bindparam("owner"))
    if "hidden" in table.c:
        query = query.where(table.c.hidden.is_(False))
    return query


@functools.cache
def _newest_statement(model: Any, column: str) -> Statement:
    table = model.__table__
    return Statement(_listing(model, column).order_by(table.c.id.desc()).limit(bindparam("limit")))


@functools.cache
def _archives_statement(scopes: tuple[tuple[Any, str], ...]) -> Statement:
    """The listings of several scopes of one owner in one statement: a view's archives cost
    one round trip, not one per scope. `part` says which scope a row is of."""
    parts = [
        _listing(model, column).add_columns(literal_column(str(index), Integer).label("part"))
        for index, (model, column) in enumerate(scopes)
    ]
    query = parts[0] if len(parts) == 1 else union_all(*parts)
    return Statement(query.order_by(literal_column("part"), literal_column("id")))


@functools.cache
def _row_statement(model: Any) -> Statement:
    table = model.__table__
    return Statement(select(table).where(table.c.id == bindparam("id")))


def row(db: Db, model: Any, row_id: int | None) -> Any:
    """A model's row as a plain row (attribute access like the model, no ORM object): for
    read-only instructions, which only look."""
    if row_id is None:
        return None
    return _row_statement(model).first(db, {"id": row_id})


def archives(db: Db, owner_id: int, *scopes: tuple[Any, str]) -> list[Archive]:
    """{id: reference} of the visible children of owner_id in each scope (model, owner column),
    ordered by id."""
    listings: list[Archive] = [{} for _ in scopes]
    for found in _archives_statement(scopes).all(db, {"owner": owner_id}):
        listings[found.part][int(found.id)] = found.reference
    return listings


def archive(db: Db, model: Any, column: str, owner_id: int, limit: int | None = None) -> Archive:
    """{id: reference} of the visible children of owner_id; with limit, the newest `limit`."""
    if limit is None:
        return archives(db, owner_id, (model, column))[0]
    rows = _newest_statement(model, column).all(db, {"owner": owner_id, "limit": limit})
    return {int(found.id): found.reference for found in reversed(rows)}


def _stamps(obj: Any) -> dict[str, Any]:
    return {"id": obj.id, "reference": obj.reference, "create_date": obj.create_date, "write_date": obj.write_date}


def _scope(kind: SheetKind) -> tuple[Any, str]:
    return kind.sheet, kind.parent_column


def account_data(db: Db, account: Account, now: datetime, lifetimes: session_store.Lifetimes) -> AccountInfo:
    ewallets, contact_lists = archives(db, account.id, (CreditEwallet, "account_id"), (ContactList, "account_id"))
    return AccountInfo(
        id=account.id,
        name=account.name,
        create_date=account.create_date,
        write_date=account.write_date,
        email=account.email,
        phone=account.phone,
        alias=account.alias,
        logged_in=session_store.is_logged_in(db, account.id, now, lifetimes),
        ewallets=Children(account.active_ewallet_id, ewallets),
        contact_lists=Children(account.active_contact_list_id, contact_lists),
    )


def ewallet_data(db: Db, ewallet: CreditEwallet) -> EwalletInfo:
    clocks, transfers, invoices = archives(
        db, ewallet.id, (CreditClock, "ewallet_id"), _scope(TRANSFER), _scope(INVOICE)
    )
    return EwalletInfo(
        **_stamps(ewallet),
        account_id=ewallet.account_id,
        credits=ewallet.credits,
        clocks=Children(ewallet.active_clock_id, clocks),
        transfer_sheets=Children(getattr(ewallet, TRANSFER.active_column), transfers),
        invoice_sheets=Children(getattr(ewallet, INVOICE.active_column), invoices),
    )


def clock_data(db: Db, clock: CreditClock) -> ClockInfo:
    times, conversions = archives(db, clock.id, _scope(TIME), _scope(CONVERSION))
    return ClockInfo(
        **_stamps(clock),
        ewallet_id=clock.ewallet_id,
        hundredths=clock.hundredths,
        state=clock.state,
        time_sheets=Children(getattr(clock, TIME.active_column), times),
        conversion_sheets=Children(getattr(clock, CONVERSION.active_column), conversions),
    )


def sheet_data(db: Db, kind: SheetKind, sheet: Any, max_records: int) -> SheetInfo:
    return SheetInfo(
        **_stamps(sheet),
        kind=kind,
        parent_id=getattr(sheet, kind.parent_column),
        records=archive(db, kind.record, "sheet_id", sheet.id, limit=max_records),
    )


def list_data(db: Db, contact_list: ContactList, max_records: int) -> ContactListInfo:
    return ContactListInfo(
        **_stamps(contact_list),
        account_id=contact_list.account_id,
        records=archive(db, ContactRecord, "list_id", contact_list.id, limit=max_records),
    )


def transfer_record_data(record: Any) -> TransferRecordInfo:
    """A transfer record, from its model or a row of its table."""
    return TransferRecordInfo(
        **_stamps(record),
        sheet_id=record.sheet_id,
        transfer_type=record.transfer_type,
        transfer_from=record.transfer_from,
        transfer_to=record.transfer_to,
        credits=record.credits,
    )


def transfer_records(db: Db, ids: list[int]) -> dict[int, TransferRecordInfo]:
    """The transfer records of these ids that exist, by id."""
    found = (_row_statement(TransferRecord).first(db, {"id": record_id}) for record_id in ids)
    return {record.id: transfer_record_data(record) for record in found if record is not None}


def record_data(record: Any) -> RecordInfo:
    if isinstance(record, TransferRecord):
        return transfer_record_data(record)
    if isinstance(record, TimeRecord):
        return time_record_data(record)
    stamps = _stamps(record) | {"sheet_id": record.sheet_id}
    if isinstance(record, InvoiceRecord):
        return InvoiceRecordInfo(
            **stamps,
            credits=record.credits,
            currency=record.currency,
            cost=record.cost,
            seller=record.seller,
            notes=record.notes,
        )
    if isinstance(record, ConversionRecord):
        return ConversionRecordInfo(
            **stamps, conversion_type=record.conversion_type, hundredths=record.hundredths, credits=record.credits
        )
    raise TypeError(f"not a ledger record: {type(record).__name__}")


def time_record_data(record: TimeRecord) -> TimeRecordInfo:
    return TimeRecordInfo(
        **_stamps(record),
        sheet_id=record.sheet_id,
        time_start=record.time_start,
        time_stop=record.time_stop,
        spent_hundredths=record.spent_hundredths,
        pending_hundredths=record.pending_hundredths,
        pending_count=record.pending_count,
    )


def contact_record_data(record: ContactRecord) -> ContactRecordInfo:
    return ContactRecordInfo(
        **_stamps(record),
        list_id=record.list_id,
        name=record.name,
        email=record.email,
        phone=record.phone,
        notes=record.notes,
    )


def login_stamps(db: Db, account_id: int, limit: int) -> dict[int, datetime]:
    """The account's latest `limit` logins, oldest first: record id -> when."""
    return _access_records(db, LoginRecord, account_id, limit)


def logout_stamps(db: Db, account_id: int, limit: int) -> dict[int, datetime]:
    """The account's latest `limit` logouts, oldest first: record id -> when."""
    return _access_records(db, LogoutRecord, account_id, limit)


def _access_records(
    db: Db, model: type[LoginRecord] | type[LogoutRecord], account_id: int, limit: int
) -> dict[int, datetime]:
    rows = db.execute(
        select(model.id, model.create_date).where(model.account_id == account_id).order_by(model.id.desc()).limit(limit)
    ).all()
    return {row[0]: row[1] for row in reversed(rows)}
