"""Invoice records in one pass: each names the movement it invoices, which exists and
is a `supply` or a `payment` of the same credits, and sits in an invoice sheet (that exists) of
the account that bought (supply) or paid (payment). That every supply and payment has exactly
one is checked in the transfer pass."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from ewallet.domain.audit.owners import Owners, missing
from ewallet.domain.audit.report import AuditReport
from ewallet.domain.audit.tables import INVOICE_SHEETS, INVOICES, TRANSFERS, rows
from ewallet.domain.audit.transfers import INVOICED
from ewallet.domain.ledger import SUPPLY


def _query() -> Any:
    i, t = INVOICES.c, TRANSFERS.c
    return (
        select(i.id, i.credits, i.sheet_id, i.transfer_record_id, t.id, t.transfer_type, t.credits,
               t.from_account_id, t.to_account_id)
        .select_from(INVOICES.outerjoin(TRANSFERS, t.id == i.transfer_record_id))
        .order_by(i.id)
    )  # fmt: skip


def _problem(row: Any, owners: Owners) -> str | None:
    invoice, credits, sheet, movement, found, kind, moved, payer, buyer = row
    if sheet not in owners.invoice_sheets:
        return missing(INVOICES, invoice, "sheet_id", INVOICE_SHEETS, sheet)
    if movement is None:
        return f"invoice record {invoice}: names no movement"
    if found is None:
        return missing(INVOICES, invoice, "transfer_record_id", TRANSFERS, movement)
    if kind not in INVOICED:
        return f"invoice record {invoice}: names transfer record {movement}, of type {kind}, not a supply or payment"
    if credits != moved:
        return f"invoice record {invoice}: {credits} credits, but its {kind} (transfer record {movement}) moved {moved}"
    named, side = (buyer, "buyer") if kind == SUPPLY else (payer, "payer")
    owner = owners.ewallets.get(owners.invoice_sheets[sheet])
    if owner is not None and owner != named:
        return (
            f"invoice record {invoice}: in an invoice sheet of account {owner}, "
            f"but the {side} of its {kind} (transfer record {movement}) is account {named}"
        )
    return None


def check_invoices(db: Db, owners: Owners, report: AuditReport) -> None:
    for row in rows(db, _query()):
        report.invoices += 1
        problem = _problem(row, owners)
        if problem is not None:
            report.add(problem)
