"""The tables the audit reads, as Core tables (rows come back as tuples, never ORM objects), the
name each gives its objects in a finding, and a reader that streams big results."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from sqlalchemy import Executable, Table
from sqlalchemy.orm import Session as Db

from ewallet.storage.models import (
    Account,
    ContactList,
    ConversionRecord,
    ConversionSheet,
    CreditClock,
    CreditEwallet,
    InvoiceRecord,
    InvoiceSheet,
    TimeRecord,
    TimeSheet,
    TransferRecord,
    TransferSheet,
)

ACCOUNTS = cast(Table, Account.__table__)
EWALLETS = cast(Table, CreditEwallet.__table__)
CLOCKS = cast(Table, CreditClock.__table__)
TRANSFER_SHEETS = cast(Table, TransferSheet.__table__)
INVOICE_SHEETS = cast(Table, InvoiceSheet.__table__)
TIME_SHEETS = cast(Table, TimeSheet.__table__)
CONVERSION_SHEETS = cast(Table, ConversionSheet.__table__)
CONTACT_LISTS = cast(Table, ContactList.__table__)
TRANSFERS = cast(Table, TransferRecord.__table__)
INVOICES = cast(Table, InvoiceRecord.__table__)
CONVERSIONS = cast(Table, ConversionRecord.__table__)
TIMES = cast(Table, TimeRecord.__table__)

#: Every table the audit reads.
AUDITED = [
    ACCOUNTS, EWALLETS, CLOCKS, TRANSFER_SHEETS, INVOICE_SHEETS, TIME_SHEETS, CONVERSION_SHEETS, CONTACT_LISTS,
    TRANSFERS, INVOICES, CONVERSIONS, TIMES,
]  # fmt: skip

#: How a finding names a row of each table: "ewallet 12", "transfer record 40".
NAMES = {
    ACCOUNTS.name: "account",
    EWALLETS.name: "ewallet",
    CLOCKS.name: "clock",
    TRANSFER_SHEETS.name: "transfer sheet",
    INVOICE_SHEETS.name: "invoice sheet",
    TIME_SHEETS.name: "time sheet",
    CONVERSION_SHEETS.name: "conversion sheet",
    CONTACT_LISTS.name: "contact list",
    TRANSFERS.name: "transfer record",
    INVOICES.name: "invoice record",
    CONVERSIONS.name: "conversion record",
    TIMES.name: "time record",
}

#: Rows fetched at a time: a ledger of millions is read in one pass without holding it.
BATCH = 10_000


def rows(db: Db, statement: Executable) -> Iterator[Any]:
    """The statement's rows, streamed (a server-side cursor on PostgreSQL)."""
    yield from db.connection().execute(statement.execution_options(yield_per=BATCH))
