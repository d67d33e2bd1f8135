"""new / switch / unlink of ewallets, clocks, sheets and contact lists. Switching changes
only the parent's active column; unlinking a ledger object hides it; the last visible one in its
scope cannot go; when the active one goes, the remaining one with the highest id takes over.

Each of these changes the shape of what an account owns, so each starts by locking the account
row (`locks.lock_account`) and only then reads what its rules judge."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from ewallet.domain.caller import AccountPointers
from ewallet.domain.errors import InvalidValue, LastResource, NotFound, TimerState
from ewallet.domain.kinds import SheetKind
from ewallet.domain.locks import lock_account, lock_clock
from ewallet.domain.ownership import owned
from ewallet.domain.timer import INACTIVE, settle, settle_record
from ewallet.domain.tree import new_clock, new_contact_list, new_ewallet, new_sheet
from ewallet.storage.models import Account, ContactList, ContactRecord, CreditClock, CreditEwallet

# -- the active chain ------------------------------------------------------------------------------


def active_ewallet(db: Db, account: AccountPointers) -> CreditEwallet:
    ewallet = db.get(CreditEwallet, account.active_ewallet_id) if account.active_ewallet_id else None
    if ewallet is None:
        raise NotFound("the account has no active credit ewallet")
    return ewallet


def active_clock(db: Db, account: AccountPointers) -> CreditClock:
    ewallet = active_ewallet(db, account)
    clock = db.get(CreditClock, ewallet.active_clock_id) if ewallet.active_clock_id else None
    if clock is None:
        raise NotFound("the active ewallet has no active credit clock")
    return clock


def active_parent(db: Db, kind: SheetKind, account: AccountPointers) -> Any:
    return active_ewallet(db, account) if kind.parent is CreditEwallet else active_clock(db, account)


def active_sheet(db: Db, kind: SheetKind, account: AccountPointers) -> Any:
    parent = active_parent(db, kind, account)
    sheet_id = getattr(parent, kind.active_column)
    sheet = db.get(kind.sheet, sheet_id) if sheet_id else None
    if sheet is None:
        raise NotFound(f"no active {kind.name} sheet")
    return sheet


def _visible_ids(db: Db, model: Any, column: str, owner_id: int) -> list[int]:
    query = select(model.id).where(getattr(model, column) == owner_id)
    if hasattr(model, "hidden"):
        query = query.where(model.hidden.is_(False))
    return list(db.scalars(query.order_by(model.id)))


def _ensure_not_last(db: Db, model: Any, column: str, owner_id: int, what: str) -> list[int]:
    """The other visible ids in the scope; LastResource when there are none."""
    ids = _visible_ids(db, model, column, owner_id)
    if len(ids) <= 1:
        raise LastResource(f"the last {what} cannot be unlinked")
    return ids


def _touch(obj: Any, now: datetime) -> None:
    obj.write_date = now


# -- new -------------------------------------------------------------------------------------------


def create_ewallet(db: Db, account: Account, now: datetime, reference: str | None) -> CreditEwallet:
    account = lock_account(db, account.id)
    ewallet = new_ewallet(db, account, now, reference)
    _touch(account, now)
    return ewallet


def create_clock(db: Db, account: Account, now: datetime, reference: str | None) -> CreditClock:
    account = lock_account(db, account.id)
    ewallet = active_ewallet(db, account)
    clock = new_clock(db, ewallet, now, reference)
    _touch(ewallet, now)
    return clock


def create_sheet(db: Db, kind: SheetKind, account: Account, now: datetime, reference: str | None) -> Any:
    account = lock_account(db, account.id)
    parent = active_parent(db, kind, account)
    sheet = new_sheet(db, kind, parent.id, now, reference)
    _touch(parent, now)
    return sheet


def create_contact_list(db: Db, account: Account, now: datetime, reference: str | None) -> ContactList:
    account = lock_account(db, account.id)
    contact_list = new_contact_list(db, account, now, reference)
    _touch(account, now)
    return contact_list


# -- switch ----------------------------------------------------------------------------------------


def _running(db: Db, clock: CreditClock | None, now: datetime) -> bool:
    """Whether the clock's timer still runs once any run-out is settled."""
    if clock is None or clock.state == INACTIVE:
        return False
    clock = lock_clock(db, clock.id)
    settle(db, clock, now)
    return clock.state != INACTIVE


def switch_ewallet(db: Db, account: Account, ewallet_id: int, now: datetime) -> CreditEwallet:
    account = lock_account(db, account.id)
    ewallet = owned(db, CreditEwallet, ewallet_id, account, "credit ewallet")
    if ewallet.id != account.active_ewallet_id:
        if _running(db, active_clock(db, account), now):
            raise TimerState("the active credit clock's timer is running")
        account.active_ewallet_id = ewallet.id
        _touch(account, now)
    return ewallet


def switch_clock(db: Db, account: Account, clock_id: int, now: datetime) -> CreditClock:
    account = lock_account(db, account.id)
    clock = owned(db, CreditClock, clock_id, account, "credit clock")
    ewallet = db.get(CreditEwallet, clock.ewallet_id)
    assert ewallet is not None
    if ewallet.active_clock_id != clock.id:
        current = db.get(CreditClock, ewallet.active_clock_id) if ewallet.active_clock_id else None
        if _running(db, current, now):
            raise TimerState("the active credit clock's timer is running")
        ewallet.active_clock_id = clock.id
        _touch(ewallet, now)
    return clock


def switch_sheet(db: Db, kind: SheetKind, account: Account, sheet_id: int, now: datetime) -> Any:
    account = lock_account(db, account.id)
    sheet = owned(db, kind.sheet, sheet_id, account, f"{kind.name} sheet")
    parent = db.get(kind.parent, getattr(sheet, kind.parent_column))
    if getattr(parent, kind.active_column) != sheet.id:
        setattr(parent, kind.active_column, sheet.id)
        _touch(parent, now)
    return sheet


def switch_contact_list(db: Db, account: Account, list_id: int, now: datetime) -> ContactList:
    account = lock_account(db, account.id)
    contact_list = owned(db, ContactList, list_id, account, "contact list")
    if account.active_contact_list_id != contact_list.id:
        account.active_contact_list_id = contact_list.id
        _touch(account, now)
    return contact_list


# -- unlink ----------------------------------------------------------------------------------------


def _clocks_of(db: Db, ewallet_id: int) -> list[CreditClock]:
    return list(db.scalars(select(CreditClock).where(CreditClock.ewallet_id == ewallet_id)))


def unlink_ewallet(db: Db, account: Account, ewallet_id: int, now: datetime) -> CreditEwallet:
    account = lock_account(db, account.id)
    ewallet = owned(db, CreditEwallet, ewallet_id, account, "credit ewallet")
    others = _ensure_not_last(db, CreditEwallet, "account_id", account.id, "credit ewallet")
    clocks = _clocks_of(db, ewallet.id)
    if any(_running(db, clock, now) for clock in clocks):
        raise TimerState("a credit clock timer of that ewallet is running")
    if ewallet.credits or any(clock.hundredths for clock in clocks):
        raise InvalidValue("the ewallet still holds credits or clock minutes")
    ewallet.hidden = True
    _touch(ewallet, now)
    if account.active_ewallet_id == ewallet.id:
        account.active_ewallet_id = max(i for i in others if i != ewallet.id)
    _touch(account, now)
    return ewallet


def unlink_clock(db: Db, account: Account, clock_id: int, now: datetime) -> CreditClock:
    account = lock_account(db, account.id)
    clock = owned(db, CreditClock, clock_id, account, "credit clock")
    others = _ensure_not_last(db, CreditClock, "ewallet_id", clock.ewallet_id, "credit clock")
    if _running(db, clock, now):
        raise TimerState("the credit clock's timer is running")
    if clock.hundredths:
        raise InvalidValue("the credit clock still holds minutes")
    clock.hidden = True
    _touch(clock, now)
    ewallet = db.get(CreditEwallet, clock.ewallet_id)
    assert ewallet is not None
    if ewallet.active_clock_id == clock.id:
        ewallet.active_clock_id = max(i for i in others if i != clock.id)
    _touch(ewallet, now)
    return clock


def unlink_sheet(db: Db, kind: SheetKind, account: Account, sheet_id: int, now: datetime) -> Any:
    account = lock_account(db, account.id)
    sheet = owned(db, kind.sheet, sheet_id, account, f"{kind.name} sheet")
    parent_id = getattr(sheet, kind.parent_column)
    others = _ensure_not_last(db, kind.sheet, kind.parent_column, parent_id, f"{kind.name} sheet")
    if kind.name == "time":
        clock = db.get(CreditClock, parent_id)
        if clock is not None and _running(db, clock, now) and clock.timer_record_id is not None:
            record = db.get(kind.record, clock.timer_record_id)
            if record is not None and record.sheet_id == sheet.id:
                raise TimerState("the running timer writes to that time sheet")
    sheet.hidden = True
    _touch(sheet, now)
    parent = db.get(kind.parent, parent_id)
    if getattr(parent, kind.active_column) == sheet.id:
        setattr(parent, kind.active_column, max(i for i in others if i != sheet.id))
    _touch(parent, now)
    return sheet


def unlink_record(db: Db, kind: SheetKind, account: Account, record_id: int, now: datetime) -> Any:
    account = lock_account(db, account.id)
    record = owned(db, kind.record, record_id, account, f"{kind.name} record")
    if kind.name == "time":
        settle_record(db, record, now)
        if record.time_stop is None:
            raise TimerState("that time record belongs to a running timer")
    record.hidden = True
    _touch(record, now)
    sheet = db.get(kind.sheet, record.sheet_id)
    _touch(sheet, now)
    return record


def unlink_contact_list(db: Db, account: Account, list_id: int, now: datetime) -> ContactList:
    account = lock_account(db, account.id)
    contact_list = owned(db, ContactList, list_id, account, "contact list")
    others = _ensure_not_last(db, ContactList, "account_id", account.id, "contact list")
    if account.active_contact_list_id == contact_list.id:
        account.active_contact_list_id = max(i for i in others if i != contact_list.id)
    _touch(account, now)
    db.flush()
    db.delete(contact_list)
    db.flush()
    return contact_list


def unlink_contact_record(db: Db, account: Account, record_id: int, now: datetime) -> ContactRecord:
    account = lock_account(db, account.id)
    record = owned(db, ContactRecord, record_id, account, "contact record")
    contact_list = db.get(ContactList, record.list_id)
    _touch(contact_list, now)
    db.delete(record)
    db.flush()
    return record


def new_contact_record(db: Db, account: Account, list_id: int | None, now: datetime, **values: Any) -> ContactRecord:
    account = lock_account(db, account.id)
    if list_id is None:
        list_id = account.active_contact_list_id
        if list_id is None:
            raise NotFound("the account has no active contact list")
    contact_list = owned(db, ContactList, list_id, account, "contact list")
    record = ContactRecord(list_id=contact_list.id, create_date=now, write_date=now, **values)
    db.add(record)
    _touch(contact_list, now)
    db.flush()
    return record
