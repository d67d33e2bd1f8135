"""The data shapes of §10 as plain dicts (Python names; the schemas give them types and wire
spellings). Archives list every visible owned object of their scope, ordered by id."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session as Db

from ewallet.domain import session_store
from ewallet.domain.kinds import CLOCK_KINDS, EWALLET_KINDS, SheetKind
from ewallet.domain.units import minutes_of
from ewallet.storage.models import (
    Account,
    ContactList,
    ContactRecord,
    ConversionRecord,
    CreditClock,
    CreditEwallet,
    InvoiceRecord,
    TimeRecord,
    TransferRecord,
)


@functools.cache
def _archive_query(model: Any, column: str, limited: bool) -> Select[Any]:
    """{id: reference} rows of one scope, built once per (model, scope, kind of listing)."""
    table = model.__table__
    query = select(table.c.id, table.c.reference).where(table.c[column] == bindparam("owner"))
    if "hidden" in table.c:
        query = query.where(table.c.hidden.is_(False))
    if limited:
        return query.order_by(table.c.id.desc()).limit(bindparam("limit"))
    return query.order_by(table.c.id)


@functools.cache
def _row_query(model: Any) -> Select[Any]:
    table = model.__table__
    return select(table).where(table.c.id == bindparam("id"))


def row(db: Db, model: Any, row_id: int | None) -> Any:
    """A model's row as a plain row (attribute access like the model, no ORM object): for
    read-only instructions, which only look."""
    if row_id is None:
        return None
    return db.connection().execute(_row_query(model), {"id": row_id}).first()


def archive(db: Db, model: Any, column: str, owner_id: int, limit: int | None = None) -> dict[int, str]:
    """{id: reference} of the visible children of owner_id; with limit, the newest `limit`."""
    query = _archive_query(model, column, limit is not None)
    rows = list(db.connection().execute(query, {"owner": owner_id, "limit": limit}))
    if limit is not None:
        rows.reverse()
    return {int(row[0]): row[1] for row in rows}


def dated(obj: Any) -> dict[str, Any]:
    return {"id": obj.id, "reference": obj.reference, "create_date": obj.create_date, "write_date": obj.write_date}


def account_data(db: Db, account: Account, now: datetime, lifetimes: session_store.Lifetimes) -> dict[str, Any]:
    logged_in = session_store.is_logged_in(db, account.id, now, lifetimes)
    return {
        "id": account.id,
        "name": account.name,
        "create_date": account.create_date,
        "write_date": account.write_date,
        "ewallet": account.active_ewallet_id,
        "contact_list": account.active_contact_list_id,
        "email": account.email,
        "phone": account.phone,
        "alias": account.alias,
        "state_code": 1 if logged_in else 0,
        "state_name": "LoggedIn" if logged_in else "LoggedOut",
        "ewallet_archive": archive(db, CreditEwallet, "account_id", account.id),
        "contact_list_archive": archive(db, ContactList, "account_id", account.id),
    }


def ewallet_data(db: Db, ewallet: CreditEwallet) -> dict[str, Any]:
    data = dated(ewallet) | {
        "user": ewallet.account_id,
        "credits": ewallet.credits,
        "clock": ewallet.active_clock_id,
        "clock_archive": archive(db, CreditClock, "ewallet_id", ewallet.id),
    }
    for kind in EWALLET_KINDS:
        data[kind.sheet_key] = getattr(ewallet, kind.active_column)
        data[f"{kind.sheet_key}_archive"] = archive(db, kind.sheet, kind.parent_column, ewallet.id)
    return data


def clock_data(db: Db, clock: CreditClock) -> dict[str, Any]:
    data = dated(clock) | {
        "ewallet": clock.ewallet_id,
        "credit_clock": minutes_of(clock.hundredths),
        "clock_state": clock.state,
    }
    for kind in CLOCK_KINDS:
        data[kind.sheet_key] = getattr(clock, kind.active_column)
        data[f"{kind.sheet_key}_archive"] = archive(db, kind.sheet, kind.parent_column, clock.id)
    return data


def sheet_data(db: Db, kind: SheetKind, sheet: Any, max_records: int) -> dict[str, Any]:
    return dated(sheet) | {
        kind.parent_key: getattr(sheet, kind.parent_column),
        "records": archive(db, kind.record, "sheet_id", sheet.id, limit=max_records),
    }


def list_data(db: Db, contact_list: ContactList, max_records: int) -> dict[str, Any]:
    return dated(contact_list) | {
        "user": contact_list.account_id,
        "records": archive(db, ContactRecord, "list_id", contact_list.id, limit=max_records),
    }


def record_data(kind: SheetKind, record: Any) -> dict[str, Any]:
    base = dated(record) | {kind.sheet_key: record.sheet_id}
    if isinstance(record, TransferRecord):
        return base | {
            "transfer_type": record.transfer_type,
            "transfer_from": record.transfer_from,
            "transfer_to": record.transfer_to,
            "credits": record.credits,
        }
    if isinstance(record, InvoiceRecord):
        return base | {
            "credits": record.credits,
            "currency": record.currency,
            "cost": float(record.cost),
            "seller": record.seller,
            "notes": record.notes,
        }
    if isinstance(record, ConversionRecord):
        return base | {
            "conversion_type": record.conversion_type,
            "minutes": minutes_of(record.hundredths),
            "credits": record.credits,
        }
    if isinstance(record, TimeRecord):
        return base | {
            "time_start": record.time_start,
            "time_stop": record.time_stop,
            "time_spent": minutes_of(record.spent_hundredths),
            "time_pending": minutes_of(record.pending_hundredths),
            "pending_count": record.pending_count,
        }
    raise TypeError(f"not a ledger record: {type(record).__name__}")


def contact_record_data(record: ContactRecord) -> dict[str, Any]:
    return dated(record) | {
        "contact_list": record.list_id,
        "name": record.name,
        "email": record.email,
        "phone": record.phone,
        "notes": record.notes,
    }
