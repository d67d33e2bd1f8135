"""Who owns what: the accounts, ewallets, clocks and sheets as id maps, read once. They are as
many as the accounts, never as the ledger; the passes over millions of ledger rows look their
rows' sheets and ewallets up here instead of joining them in the database for every row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session as Db

from ewallet.domain.audit.tables import (
    ACCOUNTS,
    CLOCKS,
    CONVERSION_SHEETS,
    EWALLETS,
    INVOICE_SHEETS,
    NAMES,
    TRANSFER_SHEETS,
    rows,
)


@dataclass(frozen=True)
class Owners:
    accounts: frozenset[int]
    #: ewallet -> account, clock -> ewallet, sheet -> ewallet or clock
    ewallets: dict[int, int]
    clocks: dict[int, int]
    transfer_sheets: dict[int, int]
    invoice_sheets: dict[int, int]
    conversion_sheets: dict[int, int]


def _owners(db: Db, table: Table, column: str) -> dict[int, int]:
    return dict(rows(db, select(table.c.id, table.c[column])))


def read_owners(db: Db) -> Owners:
    return Owners(
        accounts=frozenset(db.scalars(select(ACCOUNTS.c.id))),
        ewallets=_owners(db, EWALLETS, "account_id"),
        clocks=_owners(db, CLOCKS, "ewallet_id"),
        transfer_sheets=_owners(db, TRANSFER_SHEETS, "ewallet_id"),
        invoice_sheets=_owners(db, INVOICE_SHEETS, "ewallet_id"),
        conversion_sheets=_owners(db, CONVERSION_SHEETS, "clock_id"),
    )


def missing(table: Table, record: int, column: str, target: Table, value: Any) -> str:
    """The line for a reference to a row that does not exist."""
    return f"{NAMES[table.name]} {record}: {column} names {NAMES[target.name]} {value}, which does not exist"
