"""Invoice records (§7, §11): each names the movement it invoices, which is a `supply` or a
`payment` of the same credits, and sits in an invoice sheet of the account that bought (supply)
or paid (payment). That every supply and payment has one is checked in the transfer pass."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from ewallet.domain.audit.report import AuditReport
from ewallet.domain.audit.tables import EWALLETS, INVOICE_SHEETS, INVOICES, TRANSFERS, rows
from ewallet.domain.audit.transfers import INVOICED
from ewallet.domain.ledger import SUPPLY


def _query() -> Any:
    i, t, s, w = INVOICES.c, TRANSFERS.c, INVOICE_SHEETS.c, EWALLETS.c
    joined = (
        INVOICES.outerjoin(TRANSFERS, t.id == i.transfer_record_id)
        .outerjoin(INVOICE_SHEETS, s.id == i.sheet_id)
        .outerjoin(EWALLETS, w.id == s.ewallet_id)
    )
    return (
        select(
            i.id, i.credits, i.transfer_record_id, t.id, t.transfer_type, t.credits, t.from_account_id,
            t.to_account_id, w.id, w.account_id,
        )
        .select_from(joined)
        .order_by(i.id)
    )  # fmt: skip


def _problem(row: Any) -> str | None:
    invoice, credits, movement, found, kind, moved, payer, buyer, wallet, owner = row
    if movement is None:
        return f"invoice record {invoice}: names no movement"
    if found is None:
        return None  # the references check names the missing row
    if kind not in INVOICED:
        return f"invoice record {invoice}: names transfer record {movement}, of type {kind}, not a supply or payment"
    if credits != moved:
        return f"invoice record {invoice}: {credits} credits, but its {kind} (transfer record {movement}) moved {moved}"
    named, side = (buyer, "buyer") if kind == SUPPLY else (payer, "payer")
    if wallet is not None and owner != named:
        return (
            f"invoice record {invoice}: in an invoice sheet of account {owner}, "
            f"but the {side} of its {kind} (transfer record {movement}) is account {named}"
        )
    return None


def check_invoices(db: Db, report: AuditReport) -> None:
    for row in rows(db, _query()):
        report.invoices += 1
        problem = _problem(row)
        if problem is not None:
            report.add(problem)
