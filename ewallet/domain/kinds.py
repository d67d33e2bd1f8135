"""The four sheet kinds share one shape: a sheet under a parent (ewallet or clock) holding
records. One descriptor per kind lets a single piece of code serve all four."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ewallet.storage.models import (
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


@dataclass(frozen=True)
class SheetKind:
    name: str
    sheet: Any
    record: Any
    parent: Any
    #: The sheet's column naming its parent ("ewallet_id" / "clock_id").
    parent_column: str
    #: The parent's column naming its active sheet of this kind.
    active_column: str
    sheet_reference: str
    record_reference: str


TRANSFER = SheetKind(
    "transfer", TransferSheet, TransferRecord, CreditEwallet, "ewallet_id", "active_transfer_sheet_id",
    "Transfer Sheet", "Transfer Sheet Record",
)  # fmt: skip
INVOICE = SheetKind(
    "invoice", InvoiceSheet, InvoiceRecord, CreditEwallet, "ewallet_id", "active_invoice_sheet_id",
    "Invoice Sheet", "Invoice Sheet Record",
)  # fmt: skip
TIME = SheetKind(
    "time", TimeSheet, TimeRecord, CreditClock, "clock_id", "active_time_sheet_id",
    "Time Sheet", "Time Sheet Record",
)  # fmt: skip
CONVERSION = SheetKind(
    "conversion", ConversionSheet, ConversionRecord, CreditClock, "clock_id", "active_conversion_sheet_id",
    "Conversion Sheet", "Conversion Sheet Record",
)  # fmt: skip

KINDS = (TRANSFER, INVOICE, TIME, CONVERSION)
EWALLET_KINDS = (TRANSFER, INVOICE)
CLOCK_KINDS = (TIME, CONVERSION)
