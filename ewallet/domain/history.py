"""History: one kind of the active account's records, newest first, a page at a time.

Keyset pagination: a page is "the `limit` highest ids below the cursor's id", read per sheet on
the (sheet_id, hidden, id) index of the record table and merged, so a page costs the same at
record 10 and at record 1,000,000 (no OFFSET; an account has a handful of sheets). New records
get higher ids than every id a walk has passed, so a walk started before them never shows them
and never shows an old record twice.

Filters are residual conditions on the rows the index walk visits: a page of a rare filter
reads more rows, but how many does not grow with the depth of the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session as Db

from ewallet.domain import cursors, timer
from ewallet.domain.caller import AccountPointers
from ewallet.domain.kinds import EWALLET_KINDS, TIME, TRANSFER, SheetKind
from ewallet.domain.ownership import owned
from ewallet.domain.views import RecordInfo, record_data
from ewallet.storage.models import CreditClock, CreditEwallet


@dataclass(frozen=True)
class Filters:
    """What a history lists besides the kind; the transfer-only ones stay None for other kinds."""

    sheet_id: int | None = None
    #: Inclusive and exclusive bounds on create_date (aware UTC instants).
    since: datetime | None = None
    until: datetime | None = None
    transfer_type: str | None = None
    partner: str | None = None
    min_credits: int | None = None
    max_credits: int | None = None

    def normalised(self) -> tuple[tuple[str, str], ...]:
        """The filters as a cursor binds them: the partner in lower case, instants in UTC."""
        values: dict[str, Any] = {
            "sheet_id": self.sheet_id,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "transfer_type": self.transfer_type,
            "partner": self.partner.lower() if self.partner is not None else None,
            "min_credits": self.min_credits,
            "max_credits": self.max_credits,
        }
        return tuple((key, str(value)) for key, value in values.items() if value is not None)


@dataclass(frozen=True)
class Page:
    records: list[RecordInfo]
    #: The cursor of the next page, or None on the last one.
    next_cursor: str | None


def visible_sheets(db: Db, kind: SheetKind, account_id: int) -> list[int]:
    """Ids of the account's visible sheets of this kind whose parents (and, for clock kinds, the
    clock's ewallet) are visible too."""
    sheet = kind.sheet
    query = select(sheet.id).where(sheet.hidden == false())
    if kind in EWALLET_KINDS:
        query = query.join(CreditEwallet, CreditEwallet.id == sheet.ewallet_id)
    else:
        query = query.join(CreditClock, CreditClock.id == sheet.clock_id).where(CreditClock.hidden == false())
        query = query.join(CreditEwallet, CreditEwallet.id == CreditClock.ewallet_id)
    query = query.where(CreditEwallet.account_id == account_id, CreditEwallet.hidden == false())
    return list(db.scalars(query.order_by(sheet.id)))


def _conditions(kind: SheetKind, filters: Filters) -> list[Any]:
    record = kind.record
    conditions: list[Any] = [record.hidden == false()]
    if filters.since is not None:
        conditions.append(record.create_date >= filters.since)
    if filters.until is not None:
        conditions.append(record.create_date < filters.until)
    if kind is TRANSFER:
        if filters.transfer_type is not None:
            conditions.append(record.transfer_type == filters.transfer_type)
        if filters.partner is not None:
            partner = filters.partner.lower()
            conditions.append(
                (func.lower(record.transfer_from) == partner) | (func.lower(record.transfer_to) == partner)
            )
        if filters.min_credits is not None:
            conditions.append(record.credits >= filters.min_credits)
        if filters.max_credits is not None:
            conditions.append(record.credits <= filters.max_credits)
    return conditions


def _settle_running_timers(db: Db, account_id: int, now: datetime) -> None:
    """An open time record whose balance ran out shows as stopped at the instant it ran out, as
    `view` of the record shows it: the account's running timers are settled before reading."""
    running = select(CreditClock.id).join(CreditEwallet, CreditEwallet.id == CreditClock.ewallet_id)
    running = running.where(CreditEwallet.account_id == account_id, CreditClock.state == timer.ACTIVE)
    for clock_id in db.scalars(running).all():
        timer.settle_clock(db, clock_id, now)


def page(
    db: Db,
    kind: SheetKind,
    account: AccountPointers,
    filters: Filters,
    limit: int,
    cursor: str | None,
    now: datetime,
) -> Page:
    """One page of the account's history of `kind`, newest first. A `sheet_id` must name a
    visible sheet of the account (NotFound, Forbidden); a cursor must be one this account got
    for this kind and these filters (InvalidValue)."""
    binding = (account.id, kind.name, filters.normalised())
    before = cursors.decode(cursor, binding) if cursor is not None else None
    if filters.sheet_id is not None:
        sheets = [owned(db, kind.sheet, filters.sheet_id, account, f"{kind.name} sheet").id]
    else:
        sheets = visible_sheets(db, kind, account.id)
    if kind is TIME:
        _settle_running_timers(db, account.id, now)
    record = kind.record
    conditions = _conditions(kind, filters)
    if before is not None:
        conditions.append(record.id < before)
    found: list[Any] = []
    for sheet_id in sheets:
        query = select(record).where(record.sheet_id == sheet_id, *conditions)
        # Ordered as the index is (sheet_id and hidden are fixed here), so the planner reads the
        # page straight off it rather than walking the primary key and testing every row.
        order = (record.sheet_id.desc(), record.hidden.desc(), record.id.desc())
        found += db.scalars(query.order_by(*order).limit(limit + 1)).all()
    found.sort(key=lambda row: row.id, reverse=True)
    rows, more = found[:limit], len(found) > limit
    next_cursor = cursors.encode(rows[-1].id, binding) if more else None
    return Page(records=[record_data(row) for row in rows], next_cursor=next_cursor)
