"""Creating resources with their default children: an ewallet comes with a clock and its
sheets; a clock with its time and conversion sheets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session as Db

from ewallet.domain.kinds import CLOCK_KINDS, EWALLET_KINDS, SheetKind
from ewallet.storage.models import Account, ContactList, CreditClock, CreditEwallet

EWALLET_REFERENCE = "Credit EWallet"
CLOCK_REFERENCE = "Credit Clock"
CONTACT_LIST_REFERENCE = "Contact List"
CONTACT_RECORD_REFERENCE = "Contact List Record"


def new_sheet(db: Db, kind: SheetKind, parent_id: int, now: datetime, reference: str | None = None) -> Any:
    sheet = kind.sheet(reference=reference or kind.sheet_reference, create_date=now, write_date=now)
    setattr(sheet, kind.parent_column, parent_id)
    db.add(sheet)
    db.flush()
    return sheet


def new_clock(db: Db, ewallet: CreditEwallet, now: datetime, reference: str | None = None) -> CreditClock:
    clock = CreditClock(
        ewallet_id=ewallet.id,
        reference=reference or CLOCK_REFERENCE,
        hundredths=0,
        state="inactive",
        create_date=now,
        write_date=now,
    )
    db.add(clock)
    db.flush()
    for kind in CLOCK_KINDS:
        setattr(clock, kind.active_column, new_sheet(db, kind, clock.id, now).id)
    db.flush()
    return clock


def new_ewallet(db: Db, account: Account, now: datetime, reference: str | None = None) -> CreditEwallet:
    ewallet = CreditEwallet(
        account_id=account.id,
        reference=reference or EWALLET_REFERENCE,
        credits=0,
        create_date=now,
        write_date=now,
    )
    db.add(ewallet)
    db.flush()
    ewallet.active_clock_id = new_clock(db, ewallet, now).id
    for kind in EWALLET_KINDS:
        setattr(ewallet, kind.active_column, new_sheet(db, kind, ewallet.id, now).id)
    db.flush()
    return ewallet


def new_contact_list(db: Db, account: Account, now: datetime, reference: str | None = None) -> ContactList:
    contact_list = ContactList(
        account_id=account.id, reference=reference or CONTACT_LIST_REFERENCE, create_date=now, write_date=now
    )
    db.add(contact_list)
    db.flush()
    return contact_list
