"""The books: every ewallet holds its incoming
less its outgoing transfer rows, less what it converted to clocks, plus what it got back; no
ewallet is negative; all ewallets together hold what was supplied less what sits converted on
clocks (or was billed), and the incoming rows carry exactly what the source rows moved."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from ewallet.domain.audit.conversions import ConversionBooks
from ewallet.domain.audit.report import AuditReport
from ewallet.domain.audit.tables import EWALLETS, rows
from ewallet.domain.audit.transfers import SOURCES, TransferBooks
from ewallet.domain.ledger import INCOMING, SUPPLY


def check_ewallets(db: Db, transfers: TransferBooks, conversions: ConversionBooks, report: AuditReport) -> None:
    w = EWALLETS.c
    for ewallet, credits in rows(db, select(w.id, w.credits).order_by(w.id)):
        report.ewallets += 1
        report.credits_held += credits
        expected = transfers.net[ewallet] - conversions.credits_out[ewallet] + conversions.credits_back[ewallet]
        if credits < 0:
            report.add(f"ewallet {ewallet} holds a negative balance ({credits} credits)")
        if credits != expected:
            report.add(f"ewallet {ewallet} holds {credits} credits; its records say {expected}")


def check_totals(transfers: TransferBooks, conversions: ConversionBooks, report: AuditReport) -> None:
    report.supplied = transfers.totals[SUPPLY]
    converted, returned = sum(conversions.credits_out.values()), sum(conversions.credits_back.values())
    report.credits_on_clocks = converted - returned
    if report.credits_held + report.credits_on_clocks != report.supplied:
        report.add(
            f"system-wide: {report.credits_held} held + {report.credits_on_clocks} on clocks "
            f"!= {report.supplied} supplied"
        )
    incoming, moved = transfers.totals[INCOMING], sum(transfers.totals[kind] for kind in SOURCES)
    if incoming != moved:
        report.add(f"incoming rows total {incoming}; source rows total {moved}")
